// Streams and entities: find a stream or an entity; an entity's timeline with a version
// slider (its state at that version, read from the server) and the change each event made,
// shown as a readable diff of the JSON Patch; soft-deleted entities on request.
import { h, fill, table, jsonBlock, errorBox, instant } from "/console/ui.js";
import { applyPatch, describePatch } from "/console/patch.js";

const show = (value) => (value === undefined ? "" : JSON.stringify(value));

function diffView(lines) {
  if (lines.length === 0) return h("p", { class: "muted" }, "No change to the state.");
  return h("ul", { class: "diff" }, lines.map((line) => {
    switch (line.kind) {
      case "added": return h("li", { class: "added" }, "+ ", h("code", {}, line.path), " ", show(line.after));
      case "removed": return h("li", { class: "removed" }, "− ", h("code", {}, line.path), " ", h("del", {}, show(line.before)));
      case "moved": return h("li", { class: "changed" }, "→ ", h("code", {}, line.path), ` from ${line.before}`);
      default: return h("li", { class: "changed" }, "~ ", h("code", {}, line.path), " ", h("del", {}, show(line.before)), " → ", h("ins", {}, show(line.after)));
    }
  }));
}

async function timeline(main, session, kind, id) {
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
  let request = 0;
  const select = async (version) => {
    const mine = ++request;
    label.textContent = String(version);
    slider.value = String(version);
    for (const item of items.children) item.classList.toggle("selected", Number(item.dataset.version) === version);
    try {
      const document = await client.entity(kind, id, { version });
      if (mine !== request) return;
      fill(meta, `version ${document.version} of ${latest} · position ${document.position} · ${instant(document.updatedAt)}${document.deleted ? " · deleted" : ""}`);
      fill(stateBox, jsonBlock(document.state, { id: "entity-state-json", dataset: { version: document.version } }));
    } catch (error) {
      if (mine === request) fill(stateBox, errorBox(error));
    }
  };
  slider.addEventListener("input", () => select(Number(slider.value)));
  fill(items, changes.map(({ entry, lines }) => h("li", { dataset: { version: entry.version }, class: entry.deleted ? "deleted" : "", onclick: () => select(entry.version) },
    h("div", { class: "timeline-head" }, h("strong", {}, `v${entry.version} ${entry.type}`), h("span", { class: "muted" }, ` #${entry.position} · ${instant(entry.recordedAt)}`)),
    diffView(lines))).reverse());
  fill(main,
    h("p", {}, h("a", { href: "#/entities" }, "Streams & entities"), " / ", kind),
    h("h1", {}, `${kind} ${id} `, entries[entries.length - 1].deleted ? h("span", { class: "badge" }, "deleted") : null),
    h("p", {}, h("a", { href: `#/stream/${encodeURIComponent(history.stream ?? `${kind}-${id}`)}` }, "its stream")),
    h("section", { class: "card" }, h("h2", {}, "State at version ", label),
      h("div", { class: "slider-row" }, h("span", {}, String(entries[0].version)), slider, h("span", {}, String(latest))), meta, stateBox),
    h("section", { class: "card" }, h("h2", {}, "Timeline"), items));
  await select(latest);
}

async function stream(main, session, name) {
  const page = await session.client.readStream(name, { limit: 1000 });
  fill(main,
    h("p", {}, h("a", { href: "#/entities" }, "Streams & entities")),
    h("h1", {}, name, h("span", { class: "muted" }, ` revision ${page.revision}`)),
    table(["Revision", "Position", "Type", "Recorded", "Data"], page.events.map((event) => [
      String(event.revision), String(event.position), event.type, instant(event.recordedAt), h("code", { class: "clip" }, JSON.stringify(event.data)),
    ]), { id: "stream-events" }));
}

async function search(main, session) {
  const { client } = session;
  const kind = h("input", { id: "entity-kind", placeholder: "entity (user)", list: "entity-kinds", autocapitalize: "off" });
  const id = h("input", { id: "entity-id", placeholder: "id (optional)", autocapitalize: "off" });
  const deleted = h("input", { type: "checkbox", id: "include-deleted" });
  const streamName = h("input", { id: "stream-name", placeholder: "stream (user-1)", autocapitalize: "off" });
  const kinds = h("datalist", { id: "entity-kinds" });
  const results = h("div", { id: "entity-results" });
  const list = async () => {
    if (!kind.value.trim()) return;
    try {
      const page = await client.list(kind.value.trim(), { limit: 100, includeDeleted: deleted.checked ? true : undefined });
      fill(results, page.documents.length === 0 ? h("p", { class: "muted" }, "None.") :
        table(["Id", "Version", "Updated", ""], page.documents.map((document) => h("tr", { class: document.deleted ? "deleted" : "" },
          h("td", {}, h("a", { href: `#/entity/${encodeURIComponent(document.entity)}/${encodeURIComponent(document.id)}` }, document.id)),
          h("td", {}, String(document.version)), h("td", {}, instant(document.updatedAt)), h("td", {}, document.deleted ? "deleted" : "")))));
    } catch (error) {
      fill(results, errorBox(error));
    }
  };
  fill(main,
    h("h1", {}, "Streams & entities"),
    h("form", { class: "card filters", id: "entity-search", onsubmit: (event) => {
      event.preventDefault();
      if (kind.value.trim() && id.value.trim()) location.hash = `#/entity/${encodeURIComponent(kind.value.trim())}/${encodeURIComponent(id.value.trim())}`;
      else list();
    } }, kind, kinds, id, h("label", {}, deleted, " show deleted"), h("button", { type: "submit" }, "Find")),
    h("form", { class: "card filters", id: "stream-search", onsubmit: (event) => {
      event.preventDefault();
      if (streamName.value.trim()) location.hash = `#/stream/${encodeURIComponent(streamName.value.trim())}`;
    } }, streamName, h("button", { type: "submit" }, "Open stream")),
    results);
  deleted.addEventListener("change", list);
  // Suggest the categories of recent events: in declarative mode a category is an entity.
  try {
    const head = (await client.health()).position;
    const page = await client.log({ after: Math.max(0, head - 1000), limit: 1000 });
    const categories = [...new Set(page.events.map((event) => event.stream.split("-")[0]).filter((name) => !name.startsWith("$")))].sort();
    fill(kinds, categories.map((name) => h("option", { value: name })));
  } catch { /* suggestions only */ }
}

/** A soft-deleted entity: its history is hidden with its stream, its last state is not. */
async function deletedEntity(main, session, kind, id, error) {
  const document = await session.client.entity(kind, id, { includeDeleted: true });
  fill(main,
    h("p", {}, h("a", { href: "#/entities" }, "Streams & entities"), " / ", kind),
    h("h1", {}, `${kind} ${id} `, h("span", { class: "badge" }, "deleted")),
    h("p", { class: "muted" }, error.detail),
    h("section", { class: "card" }, h("h2", {}, `Last state, version ${document.version}`), jsonBlock(document.state, { id: "entity-state-json", dataset: { version: document.version } })));
}

export async function entitiesPage(main, session, { name, rest }) {
  if (name === "entity" && rest.length >= 2) {
    const [kind, id] = [rest[0], rest.slice(1).join("/")];
    try {
      return await timeline(main, session, kind, id);
    } catch (error) {
      if (error?.code === "entity-deleted") return deletedEntity(main, session, kind, id, error);
      throw error;
    }
  }
  if (name === "stream" && rest.length >= 1) return stream(main, session, rest.join("/"));
  return search(main, session);
}
