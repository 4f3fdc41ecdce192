// Field blame: each field (leaf) of an entity's state with the event that last set it — its
// type, position, revision, time and actor — read from /v1/entities/{entity}/{id}/blame, as of
// the position of the version the timeline shows.
import { h, fill, table, errorBox, instant } from "/console/ui.js";

const show = (value) => (typeof value === "string" ? value : JSON.stringify(value));

/** Fills `box` with the blame of `kind` `id` as of `position` (`undefined`: now). */
export async function showBlame(box, session, kind, id, position) {
  try {
    const blame = await session.client.blame(kind, id, { asOf: position });
    const at = blame.asOf === null || blame.asOf === undefined ? "now" : `as of position ${blame.asOf}`;
    fill(box,
      h("p", { class: "muted", id: "blame-meta", dataset: { version: blame.version, asOf: blame.asOf ?? "" } }, `version ${blame.version}, ${at}`),
      blame.fields.length === 0 ? h("p", { class: "muted" }, "The state has no fields.") :
        table(["Field", "Value", "Set by", "Position", "Revision", "Recorded", "Actor"], blame.fields.map((field) => h("tr", { dataset: { pointer: field.pointer, position: field.position } },
          h("td", {}, h("code", {}, field.pointer || "(whole state)")),
          h("td", {}, h("code", { class: "clip" }, show(field.value))),
          h("td", {}, h("strong", { title: `event ${field.eventId}` }, field.type)),
          h("td", {}, `#${field.position}`),
          h("td", {}, `v${field.revision}`),
          h("td", {}, instant(field.recordedAt)),
          h("td", {}, field.actor === null || field.actor === undefined ? h("span", { class: "muted" }, "–") : show(field.actor)))), { id: "blame-table" }));
  } catch (error) {
    fill(box, errorBox(error));
  }
}
