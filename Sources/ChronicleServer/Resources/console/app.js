// The console's shell: the API key (kept in sessionStorage, for this tab only), the key's
// role (from /v1/whoami: a read key gets no write buttons), and a hash router over the pages.
import { Chronicle, ChronicleError } from "/client.js";
import { h, fill, errorBox } from "/console/ui.js";
import { overviewPage } from "/console/overview.js";
import { logPage } from "/console/log.js";
import { entitiesPage } from "/console/entities.js";
import { reactorsPage } from "/console/reactors.js";
import { changesPage } from "/console/changes.js";

const keyStorage = "chronicle.apiKey";
const roles = ["read", "write", "admin"];

/** What every page gets: the client, the key's role, `can(role)`, and the database-wide
 * moment the lists and entities are read as of (`asOf`: null for now; see moment.js). */
const session = {
  client: new Chronicle({ apiKey: sessionStorage.getItem(keyStorage) }),
  role: null,
  asOf: null,
  keys: false,
  can(role) { return this.role !== null && roles.indexOf(this.role) >= roles.indexOf(role); },
};

const pages = { overview: overviewPage, log: logPage, entities: entitiesPage, entity: entitiesPage, stream: entitiesPage, changes: changesPage, reactors: reactorsPage };
let cleanup = null;

function showSession() {
  const box = document.getElementById("session");
  if (!session.role) return fill(box);
  fill(box,
    h("span", { class: `role role-${session.role}`, id: "role", title: "The role of the API key this tab uses" }, session.keys ? `key: ${session.role}` : "open server (no keys)"),
    session.keys ? h("button", { class: "link", id: "forget-key", onclick: () => { sessionStorage.removeItem(keyStorage); location.reload(); } }, "Forget key") : null);
}

function askForKey(message) {
  const main = document.getElementById("main");
  const input = h("input", { type: "password", id: "api-key", autocomplete: "off", placeholder: "API key", required: true, minlength: 16 });
  const form = h("form", { id: "key-form", class: "card key-form", onsubmit: (event) => {
    event.preventDefault();
    sessionStorage.setItem(keyStorage, input.value.trim());
    session.client.apiKey = input.value.trim();
    start();
  } },
  h("h2", {}, "API key"),
  h("p", {}, "This server has API keys. Enter one to use the console; it is kept for this tab only (sessionStorage) and sent as Authorization: Bearer."),
  message ? errorBox(message) : null,
  input, h("button", { type: "submit", id: "key-submit" }, "Use key"));
  fill(main, form);
  input.focus();
}

async function route() {
  cleanup?.();
  cleanup = null;
  const [name = "overview", ...rest] = location.hash.replace(/^#\/?/, "").split("/").map(decodeURIComponent);
  const page = pages[name] ?? overviewPage;
  for (const link of document.querySelectorAll("#nav a")) {
    const active = link.dataset.page === name || (link.dataset.page === "entities" && (name === "entity" || name === "stream"));
    link.classList.toggle("active", active);
  }
  const main = document.getElementById("main");
  fill(main);
  try {
    cleanup = await page(main, session, { name, rest });
  } catch (error) {
    if (error instanceof ChronicleError && error.status === 401) return askForKey(error);
    main.append(errorBox(error));
  }
}

async function start() {
  try {
    const me = await session.client.whoami();
    session.keys = me.keys;
    session.role = me.role ?? null;
    if (!session.role) {
      showSession();
      return askForKey(null);
    }
  } catch (error) {
    session.role = null;
    showSession();
    if (error instanceof ChronicleError && error.status === 401) {
      sessionStorage.removeItem(keyStorage);
      session.client.apiKey = null;
      return askForKey(error);
    }
    return fill(document.getElementById("main"), errorBox(error));
  }
  showSession();
  document.body.dataset.role = session.role;
  await route();
}

window.addEventListener("hashchange", () => { if (session.role) route(); });
start();
