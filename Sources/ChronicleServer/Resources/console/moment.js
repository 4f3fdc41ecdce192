// The database-wide "as of" moment: a slider over the log's positions (0…head) and an
// instant input. The entity lists and the opened entity are then read as the whole read model
// was at that moment (`?asOf=`), and each answer says which position it reflects; a moment the
// server refuses (beyond the head, before the first event, not caught up) is shown as a notice
// with the problem's detail. The moment lasts for the tab's session (it is kept on `session`).
import { h, fill, errorBox } from "/console/ui.js";

/** The `asOf` to send for the session's moment: a position, an instant, or `undefined` (now). */
export function asOf(session) {
  return session.asOf === null || session.asOf === undefined ? undefined : session.asOf;
}

/** What a moment is called: `position 3`, an instant, or `now`. */
export function momentName(value) {
  if (value === null || value === undefined) return "now";
  return typeof value === "number" ? `position ${value}` : value;
}

/**
 * The bar that sets the session's moment; `onChange()` re-reads what the page shows. Answers
 * `{ element, reflect(answer), note(text), refuse(error) }`: `reflect` shows which position an
 * answer is as of, `refuse` the server's reason for not answering at that moment.
 */
export async function momentBar(session, onChange) {
  const head = (await session.client.health()).position;
  const position = typeof session.asOf === "number" ? Math.min(session.asOf, head) : head;
  const slider = h("input", { type: "range", id: "asof-slider", min: 0, max: head, step: 1, value: position, "aria-label": "as of position" });
  const label = h("strong", { id: "asof-label" });
  const instant = h("input", { id: "asof-instant", placeholder: "or an instant: 2026-11-01T10:00:00Z", autocapitalize: "off", value: typeof session.asOf === "string" ? session.asOf : "" });
  const reflects = h("span", { class: "muted", id: "asof-reflects" });
  const notice = h("div", { id: "asof-notice" });
  const describe = () => { label.textContent = momentName(session.asOf); };
  const set = (value) => {
    session.asOf = value;
    describe();
    fill(notice);
    fill(reflects);
    onChange();
  };
  slider.addEventListener("input", () => {
    instant.value = "";
    set(Number(slider.value));
  });
  const now = h("button", { type: "button", class: "secondary", id: "asof-now", onclick: () => {
    instant.value = "";
    slider.value = String(head);
    set(null);
  } }, "Now");
  const form = h("form", { class: "filters", id: "asof-form", onsubmit: (event) => {
    event.preventDefault();
    const text = instant.value.trim();
    if (/^\d+$/.test(text)) slider.value = text;
    set(text === "" ? null : /^\d+$/.test(text) ? Number(text) : text);
  } }, instant, h("button", { type: "submit" }, "Read as of"), now);
  describe();
  const element = h("section", { class: "card moment", id: "asof" },
    h("h2", {}, "As of ", label, " ", reflects),
    h("div", { class: "slider-row" }, h("span", {}, "0"), slider, h("span", {}, `${head} (head)`)),
    form, notice);
  return {
    element,
    reflect(answer) {
      fill(notice);
      const at = answer?.asOf;
      fill(reflects, at === null || at === undefined ? "· the current read model" : `· the read model right after position ${at}`);
    },
    /** A word on what the page shows instead of the moment (the timeline's own version slider). */
    note(text) { fill(reflects, `· ${text}`); },
    refuse(error) {
      fill(reflects, "· refused");
      const extra = ["head", "first", "historyFrom", "lag"].filter((name) => error?.fields?.[name] !== undefined)
        .map((name) => `${name}: ${error.fields[name]}`).join(" · ");
      fill(notice, errorBox(error), extra ? h("p", { class: "muted" }, `The server's range: ${extra}`) : null);
    },
  };
}
