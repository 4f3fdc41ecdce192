// Small DOM helpers for the console: elements are built with textContent, never from HTML
// strings, so nothing an event carries can inject markup.

/** Creates an element: `h("button", { class: "x", onclick: f }, "Retry")`. */
export function h(tag, attributes = {}, ...children) {
  const element = document.createElement(tag);
  for (const [name, value] of Object.entries(attributes ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (name.startsWith("on") && typeof value === "function") element.addEventListener(name.slice(2), value);
    else if (name === "dataset") Object.assign(element.dataset, value);
    else if (value === true) element.setAttribute(name, "");
    else element.setAttribute(name, String(value));
  }
  append(element, children);
  return element;
}

function append(element, children) {
  for (const child of children.flat(Infinity)) {
    if (child === undefined || child === null || child === false) continue;
    element.append(child instanceof Node ? child : document.createTextNode(String(child)));
  }
}

/** Replaces an element's children. */
export function fill(element, ...children) {
  element.replaceChildren();
  append(element, children);
  return element;
}

/** A table: `columns` are header labels, `rows` arrays of cells (or a `tr` element). */
export function table(columns, rows, attributes = {}) {
  return h("div", { class: "table-wrap" }, h("table", attributes,
    h("thead", {}, h("tr", {}, columns.map((column) => h("th", {}, column)))),
    h("tbody", {}, rows.map((row) => (row instanceof Node ? row : h("tr", {}, row.map((cell) => h("td", {}, cell))))))));
}

/** Pretty JSON in a `pre`. */
export function jsonBlock(value, attributes = {}) {
  return h("pre", { class: "json", ...attributes }, JSON.stringify(value, null, 2));
}

/** An error (a ChronicleError or anything else) as a visible message. */
export function errorBox(error) {
  const code = error?.code ? `${error.code}: ` : "";
  return h("div", { class: "error", role: "alert" }, code + (error?.detail || error?.message || String(error)));
}

/** `12 s`, `3 min`… for a number of seconds. */
export function seconds(value) {
  if (value === undefined || value === null) return "–";
  if (value < 1) return `${Math.round(value * 1000)} ms`;
  if (value < 120) return `${value.toFixed(1)} s`;
  if (value < 7200) return `${Math.round(value / 60)} min`;
  return `${Math.round(value / 3600)} h`;
}

/** `1.2 MB` for a number of bytes. */
export function bytes(value) {
  if (value === undefined || value === null || Number.isNaN(value)) return "–";
  const units = ["B", "kB", "MB", "GB", "TB"];
  let index = 0;
  while (value >= 1000 && index < units.length - 1) { value /= 1000; index += 1; }
  return `${value.toFixed(index === 0 ? 0 : 1)} ${units[index]}`;
}

/** A recorded-at instant, short: the time of day, with the date when it is not today. */
export function instant(text) {
  if (!text) return "–";
  const date = new Date(text);
  if (Number.isNaN(date.getTime())) return text;
  const today = new Date().toDateString() === date.toDateString();
  return today ? date.toLocaleTimeString() : date.toLocaleString();
}

/** A labelled value, for the overview's cards. */
export function stat(label, value, id) {
  return h("div", { class: "stat" }, h("div", { class: "stat-label" }, label), h("div", { class: "stat-value", id }, value));
}

/** A small bar chart (SVG) of `values`, newest last. */
export function barChart(values, { width = 300, height = 60, label = "" } = {}) {
  const ns = "http://www.w3.org/2000/svg";
  const svg = document.createElementNS(ns, "svg");
  svg.setAttribute("viewBox", `0 0 ${width} ${height}`);
  svg.setAttribute("class", "chart");
  svg.setAttribute("role", "img");
  svg.setAttribute("aria-label", label);
  const baseline = document.createElementNS(ns, "line");
  for (const [name, value] of [["x1", 0], ["y1", height - 0.5], ["x2", width], ["y2", height - 0.5]]) baseline.setAttribute(name, String(value));
  baseline.setAttribute("class", "baseline");
  svg.append(baseline);
  const maximum = Math.max(1, ...values);
  const step = width / Math.max(1, values.length);
  values.forEach((value, index) => {
    const bar = document.createElementNS(ns, "rect");
    const barHeight = (value / maximum) * (height - 2);
    bar.setAttribute("x", String(index * step));
    bar.setAttribute("y", String(height - barHeight));
    bar.setAttribute("width", String(Math.max(1, step - 1)));
    bar.setAttribute("height", String(barHeight));
    svg.append(bar);
  });
  return svg;
}

const show = (value) => (value === undefined ? "" : JSON.stringify(value));

/** The lines of `describePatch` (patch.js) as a readable diff: + added, − removed, ~ changed. */
export function diffView(lines) {
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
