// Changes between two moments: every entity whose document changed in (from, to] — created,
// changed, deleted, restored or erased — with the JSON Patch between its two ends shown as a
// readable diff, read from /v1/changes and paged in the order of each entity's last change.
// It starts from the console's as-of moment when one is set (else 100 positions back) to the head.
import { h, fill, errorBox, diffView } from "/console/ui.js";
import { describePatch } from "/console/patch.js";

const moment = (text) => (/^\d+$/.test(text) ? Number(text) : text);

function changeItem(change) {
  const link = `#/entity/${encodeURIComponent(change.entity)}/${encodeURIComponent(change.id)}`;
  return h("li", { class: `change ${change.kind === "deleted" || change.kind === "erased" ? "deleted" : ""}`, dataset: { entity: change.entity, id: change.id, kind: change.kind, position: change.position } },
    h("div", { class: "timeline-head" },
      h("a", { href: link }, h("strong", {}, `${change.entity} ${change.id}`)), " ",
      h("span", { class: "badge kind", dataset: { kind: change.kind } }, change.kind),
      h("span", { class: "muted" }, ` last change #${change.position}${change.before ? ` · v${change.before.version}` : ""}${change.after ? ` → v${change.after.version}` : ""}`)),
    diffView(describePatch(change.before?.state ?? {}, change.patch)));
}

export async function changesPage(main, session) {
  const { client } = session;
  const head = (await client.health()).position;
  const from = h("input", { id: "changes-from", placeholder: "from: a position or an instant", autocapitalize: "off", value: String(session.asOf ?? Math.max(0, head - 100)) });
  const to = h("input", { id: "changes-to", placeholder: "to: a position or an instant", autocapitalize: "off", value: String(head) });
  const kind = h("input", { id: "changes-entity", placeholder: "entity (optional)", autocapitalize: "off" });
  const summary = h("p", { class: "muted", id: "changes-summary" });
  const list = h("ol", { class: "timeline", id: "changes-list" });
  const more = h("div");
  const problems = h("div", { id: "changes-notice" });
  let request = 0;

  const load = async (cursor) => {
    const mine = ++request;
    if (!cursor) { fill(list); fill(summary, "reading…"); }
    fill(more);
    try {
      const page = await client.changes({ from: moment(from.value.trim()), to: moment(to.value.trim()), entity: kind.value.trim() || undefined, limit: 100, cursor });
      if (mine !== request) return;
      fill(problems);
      list.append(...page.changes.map(changeItem));
      const count = list.children.length;
      fill(summary, count === 0 ? `Nothing changed after position ${page.from} up to position ${page.to}.`
        : `${count} ${count === 1 ? "entity" : "entities"} changed after position ${page.from} up to position ${page.to}${page.next ? " (more below)" : ""}.`);
      summary.dataset.from = page.from;
      summary.dataset.to = page.to;
      if (page.next) fill(more, h("button", { class: "secondary", id: "changes-more", onclick: () => load(page.next) }, "More"));
    } catch (error) {
      if (mine !== request) return;
      fill(summary);
      fill(problems, errorBox(error));
    }
  };

  fill(main,
    h("h1", {}, "Changes between two moments"),
    h("p", { class: "muted" }, "Each entity whose state changed after the first moment up to the second (positions, or RFC 3339 instants such as 2026-11-01T10:00:00Z)."),
    h("form", { class: "card filters", id: "changes-form", onsubmit: (event) => { event.preventDefault(); load(); } },
      h("label", { class: "field" }, "from ", from), h("label", { class: "field" }, "to ", to), kind, h("button", { type: "submit" }, "Compare")),
    problems, summary, list, more);
  await load();
}
