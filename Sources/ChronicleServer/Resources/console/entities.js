// Streams and entities: find a stream or an entity, soft-deleted ones on request; the list as
// of the database-wide moment (moment.js); an entity's timeline is in timeline.js.
import { h, fill, table, jsonBlock, errorBox, instant } from "/console/ui.js";
import { asOf, momentBar } from "/console/moment.js";
import { timeline } from "/console/timeline.js";

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
  let request = 0;
  const list = async () => {
    if (!kind.value.trim()) return;
    const mine = ++request;
    try {
      const page = await client.list(kind.value.trim(), { limit: 100, includeDeleted: deleted.checked ? true : undefined, asOf: asOf(session) });
      if (mine !== request) return;
      bar.reflect(page);
      fill(results, page.documents.length === 0 ? h("p", { class: "muted" }, "None.") :
        table(["Id", "Version", "Updated", "State", ""], page.documents.map((document) => h("tr", { class: document.deleted ? "deleted" : "", dataset: { id: document.id, version: document.version } },
          h("td", {}, h("a", { href: `#/entity/${encodeURIComponent(document.entity)}/${encodeURIComponent(document.id)}` }, document.id)),
          h("td", {}, String(document.version)), h("td", {}, instant(document.updatedAt)),
          h("td", {}, h("code", { class: "clip" }, JSON.stringify(document.state))), h("td", {}, document.deleted ? "deleted" : ""))), { id: "entity-list", dataset: { asOf: page.asOf ?? "" } }));
    } catch (error) {
      if (mine !== request) return;
      if (error?.code === "moment-out-of-range" || error?.code === "not-caught-up") {
        bar.refuse(error);
        fill(results);
      } else {
        fill(results, errorBox(error));
      }
    }
  };
  const bar = await momentBar(session, list);
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
    bar.element,
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
