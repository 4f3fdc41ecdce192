// An entity's timeline: a version slider (its state at that version, read from the server),
// the change each event made as a readable diff of the JSON Patch, and field blame as of the
// selected version's event. With a database-wide moment set (moment.js), the entity is read as
// of that moment and the slider moves to the version it had then.
import { h, fill, jsonBlock, errorBox, instant, diffView } from "/console/ui.js";
import { applyPatch, describePatch } from "/console/patch.js";
import { asOf, momentBar, momentName } from "/console/moment.js";
import { showBlame } from "/console/blame.js";

export async function timeline(main, session, kind, id) {
  const { client } = session;
  const history = await client.history(kind, id);
  const entries = history.history;
  const latest = entries[entries.length - 1].version;
  let state = {};
  const changes = entries.map((entry) => {
    const lines = describePatch(state, entry.patch);
    state = applyPatch(state, entry.patch);
    return { entry, lines };
  });
  const slider = h("input", { type: "range", id: "version-slider", min: entries[0].version, max: latest, value: latest, step: 1, "aria-label": "version" });
  const label = h("span", { id: "slider-version" }, String(latest));
  const stateBox = h("div", { id: "entity-state" });
  const meta = h("p", { class: "muted", id: "entity-meta" });
  const items = h("ol", { class: "timeline", id: "timeline" });
  const blameBox = h("div", { id: "blame" });
  let request = 0;
  const mark = (version) => {
    label.textContent = String(version);
    slider.value = String(version);
    for (const item of items.children) item.classList.toggle("selected", Number(item.dataset.version) === version);
  };
  const showDocument = (document, note) => {
    mark(document.version);
    fill(meta, `version ${document.version} of ${latest} · position ${document.position} · ${instant(document.updatedAt)}${document.deleted ? " · deleted" : ""}${note}`);
    fill(stateBox, jsonBlock(document.state, { id: "entity-state-json", dataset: { version: document.version, asOf: document.asOf ?? "" } }));
    return showBlame(blameBox, session, kind, id, document.position);
  };
  const select = async (version) => {
    const mine = ++request;
    mark(version);
    try {
      const document = await client.entity(kind, id, { version });
      if (mine === request) await showDocument(document, "");
    } catch (error) {
      if (mine === request) fill(stateBox, errorBox(error));
    }
  };
  // The entity as of the session's moment (or its latest version when there is none).
  const atMoment = async () => {
    if (asOf(session) === undefined) {
      bar.reflect(null);
      return select(latest);
    }
    const mine = ++request;
    try {
      const document = await client.entity(kind, id, { asOf: asOf(session), includeDeleted: true });
      if (mine !== request) return;
      bar.reflect(document);
      await showDocument(document, ` · as of position ${document.asOf}`);
    } catch (error) {
      if (mine !== request) return;
      if (error?.code !== "entity-not-found") return bar.refuse(error);
      bar.reflect(error.fields);
      mark(-1);
      fill(meta, `as of ${momentName(session.asOf)}`);
      fill(stateBox, h("p", { class: "notice", id: "entity-absent" }, error.detail));
      fill(blameBox, h("p", { class: "muted" }, "Nothing to blame: the entity did not exist yet."));
    }
  };
  const bar = await momentBar(session, atMoment);
  // A version picked by hand is shown as that version, whatever the moment.
  const pick = (version) => {
    if (asOf(session) !== undefined) bar.note(`showing version ${version}, picked below`);
    return select(version);
  };
  slider.addEventListener("input", () => pick(Number(slider.value)));
  fill(items, changes.map(({ entry, lines }) => h("li", { dataset: { version: entry.version }, class: entry.deleted ? "deleted" : "", onclick: () => pick(entry.version) },
    h("div", { class: "timeline-head" }, h("strong", {}, `v${entry.version} ${entry.type}`),
      // An event of another stream that changed this entity (a schema's id: or each:).
      entry.stream ? h("span", { class: "muted foreign" }, " from ", h("a", { href: `#/stream/${encodeURIComponent(entry.stream)}` }, entry.stream)) : null,
      h("span", { class: "muted" }, ` #${entry.position} · ${instant(entry.recordedAt)}`)),
    diffView(lines))).reverse());
  fill(main,
    h("p", {}, h("a", { href: "#/entities" }, "Streams & entities"), " / ", kind),
    h("h1", {}, `${kind} ${id} `, entries[entries.length - 1].deleted ? h("span", { class: "badge" }, "deleted") : null),
    h("p", {}, h("a", { href: `#/stream/${encodeURIComponent(history.stream ?? `${kind}-${id}`)}` }, "its stream")),
    bar.element,
    h("section", { class: "card" }, h("h2", {}, "State at version ", label),
      h("div", { class: "slider-row" }, h("span", {}, String(entries[0].version)), slider, h("span", {}, String(latest))), meta, stateBox),
    h("section", { class: "card" }, h("h2", {}, "Field blame: the event that last set each field"), blameBox),
    h("section", { class: "card" }, h("h2", {}, "Timeline"), items));
  await atMoment();
}
