// The global log, live: the latest events, then each new one as it is appended; filters by
// category, type, correlation and tag; an event's data, metadata, hash, and the events it
// caused (by causationId) as a tree. A write key also gets a form to append an event.
import { h, fill, jsonBlock, errorBox, instant } from "/console/ui.js";

const shown = 500;
const backlog = 100;

/** The events caused by `root`, as nested lists: children are the events whose
 * metadata.causationId is their parent's id. */
export function causationTree(root, events) {
  const children = new Map();
  for (const event of events) {
    const parent = event.metadata?.causationId;
    if (!parent || event.id === root.id) continue;
    if (!children.has(parent)) children.set(parent, []);
    children.get(parent).push(event);
  }
  const seen = new Set();
  const branch = (event) => {
    seen.add(event.id);
    const below = (children.get(event.id) ?? []).filter((child) => !seen.has(child.id));
    return h("li", {}, h("span", { class: "tree-node" }, `${event.type} `, h("span", { class: "muted" }, `#${event.position} ${event.stream}`)),
      below.length ? h("ul", {}, below.map(branch)) : null);
  };
  return h("ul", { class: "tree", id: "causation-tree" }, branch(root));
}

function detail(panel, event, session) {
  const tree = h("div", {}, h("p", { class: "muted" }, "Loading what it caused…"));
  fill(panel,
    h("div", { class: "panel-head" }, h("h2", {}, `${event.type} `, h("span", { class: "muted" }, `#${event.position}`)),
      h("button", { class: "link", onclick: () => fill(panel) }, "Close")),
    h("dl", { class: "facts" },
      h("dt", {}, "Stream"), h("dd", {}, h("a", { href: `#/stream/${encodeURIComponent(event.stream)}` }, event.stream), ` revision ${event.revision}`),
      h("dt", {}, "Id"), h("dd", { class: "mono" }, event.id),
      h("dt", {}, "Recorded"), h("dd", {}, event.recordedAt),
      h("dt", {}, "Hash"), h("dd", { class: "mono", id: "event-hash" }, event.hash),
      event.tags?.length ? [h("dt", {}, "Tags"), h("dd", {}, event.tags.join(", "))] : null),
    h("h3", {}, "Data"), jsonBlock(event.data, { id: "event-data" }),
    h("h3", {}, "Metadata"), jsonBlock(event.metadata, { id: "event-metadata" }),
    h("h3", {}, "Caused"), tree);
  const correlation = event.metadata?.correlationId;
  if (!correlation) return fill(tree, h("p", { class: "muted" }, "No correlationId, so nothing to follow."));
  session.client.correlation(correlation, { limit: 1000 }).then(
    (page) => fill(tree, causationTree(event, page.events)),
    (error) => fill(tree, errorBox(error)));
}

function appendForm(session, problems) {
  const stream = h("input", { name: "stream", placeholder: "stream (user-1)", required: true });
  const type = h("input", { name: "type", placeholder: "type (UserCreated)", required: true });
  const data = h("textarea", { name: "data", rows: 2, placeholder: "data: a JSON object" }, "{}");
  return h("details", { class: "card write-action", id: "append-form" }, h("summary", {}, "Append an event"),
    h("form", { onsubmit: async (submit) => {
      submit.preventDefault();
      try {
        await session.client.append(stream.value.trim(), { type: type.value.trim(), data: JSON.parse(data.value || "{}") });
        fill(problems);
      } catch (error) {
        fill(problems, errorBox(error));
      }
    } }, stream, type, data, h("button", { type: "submit", class: "write-action" }, "Append")));
}

export async function logPage(main, session) {
  const filters = { category: "", type: "", correlation: "", tag: "" };
  const inputs = Object.fromEntries(Object.keys(filters).map((name) => [name, h("input", { name, id: `filter-${name}`, placeholder: name, autocapitalize: "off" })]));
  const rows = h("tbody", { id: "log-rows" });
  const panel = h("aside", { class: "detail", id: "event-detail" });
  const problems = h("div");
  const state = h("span", { class: "badge", id: "log-state" }, "connecting");
  let subscription = null;
  let count = 0;

  const row = (event) => h("tr", { dataset: { position: event.position, id: event.id }, class: "clickable", onclick: () => detail(panel, event, session) },
    h("td", {}, String(event.position)), h("td", {}, instant(event.recordedAt)), h("td", {}, event.stream), h("td", {}, event.type),
    h("td", { class: "mono short" }, event.metadata?.correlationId ? h("button", { class: "link", title: "Show this correlation only", onclick: (click) => {
      click.stopPropagation();
      inputs.correlation.value = event.metadata.correlationId;
      form.requestSubmit();
    } }, event.metadata.correlationId.slice(0, 8)) : ""));

  const follow = async () => {
    subscription?.close();
    fill(rows);
    count = 0;
    const head = (await session.client.health()).position;
    const tag = filters.tag.trim();
    subscription = session.client.subscribe({
      after: Math.max(0, head - backlog),
      category: filters.category || undefined, type: filters.type || undefined, correlation: filters.correlation || undefined,
      query: tag ? { items: [{ tags: [tag] }] } : undefined,
      onEvent: (event) => {
        rows.prepend(row(event));
        count += 1;
        if (count > shown) rows.lastChild?.remove();
      },
      onState: (value) => { state.textContent = value; state.dataset.state = value; },
      onError: (error) => fill(problems, errorBox(error)),
    });
  };

  const form = h("form", { class: "filters", id: "log-filters", onsubmit: (event) => {
    event.preventDefault();
    for (const name of Object.keys(filters)) filters[name] = inputs[name].value.trim();
    follow().catch((error) => fill(problems, errorBox(error)));
  } }, Object.values(inputs), h("button", { type: "submit" }, "Filter"));

  fill(main,
    h("h1", {}, "Log ", state),
    form,
    session.can("write") ? appendForm(session, problems) : null,
    problems,
    h("div", { class: "split" },
      h("div", { class: "table-wrap" }, h("table", { id: "log-table" },
        h("thead", {}, h("tr", {}, ["Position", "Recorded", "Stream", "Type", "Correlation"].map((label) => h("th", {}, label)))), rows)),
      panel));
  await follow();
  return () => subscription?.close();
}
