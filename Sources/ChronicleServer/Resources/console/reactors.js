// Reactors: each one's delivery counters and state, its parked events with their last
// error, and (for an admin key) retry and skip.
import { h, fill, table, seconds, instant, errorBox } from "/console/ui.js";
import { reactorState } from "/console/overview.js";

function parkedTable(session, reactor, parked, refresh, problems) {
  if (parked.length === 0) return h("p", { class: "muted" }, "No parked events.");
  const act = (action, event) => async (click) => {
    click.target.disabled = true;
    try {
      const answer = action === "retry" ? await session.client.retryParked(reactor, event.eventId) : await session.client.skipParked(reactor, event.eventId);
      const message = action === "retry"
        ? (answer.delivered ? `Event #${event.position} delivered.` : `Event #${event.position} failed again and is parked again.`)
        : `Event #${event.position} skipped.`;
      fill(problems, h("div", { class: "notice", role: "status", id: "action-result" }, message));
    } catch (error) {
      fill(problems, errorBox(error));
    }
    await refresh();
  };
  const admin = session.can("admin");
  return table(["Position", "Event", "Attempts", "Last error", "Parked", admin ? "" : null].filter((label) => label !== null), parked.map((event) => h("tr", { dataset: { eventId: event.eventId, position: event.position } },
    h("td", {}, String(event.position)), h("td", { class: "mono short" }, event.eventId), h("td", {}, String(event.attempts)),
    h("td", { class: "error-text" }, event.error), h("td", {}, instant(event.parkedAt)),
    admin ? h("td", { class: "actions" },
      h("button", { class: "write-action retry", onclick: act("retry", event) }, "Retry"),
      h("button", { class: "write-action skip secondary", onclick: act("skip", event) }, "Skip")) : null)), { class: "parked", dataset: { reactor } });
}

export async function reactorsPage(main, session) {
  const list = h("div", { id: "reactor-list" });
  const problems = h("div", { id: "reactor-messages" });
  fill(main, h("h1", {}, "Reactors"), problems, list);
  let busy = null;
  // One refresh at a time; a refresh asked for meanwhile (after a retry) runs after it.
  const refresh = async () => {
    while (busy) await busy.catch(() => {});
    busy = load();
    return busy;
  };
  const load = async () => {
    try {
      const { reactors } = await session.client.reactors();
      const sections = await Promise.all(reactors.map(async (reactor) => {
        const { parked } = await session.client.parked(reactor.name);
        return h("section", { class: "card reactor", dataset: { reactor: reactor.name } },
          h("h2", {}, reactor.name, " ", h("span", { class: "badge" }, reactorState(reactor))),
          table(["Checkpoint", "Lag", "In flight", "Delivered", "Failures", "Parked", "Last delivered"], [[
            String(reactor.checkpoint ?? "–"), `${reactor.lag.events} (${seconds(reactor.lag.seconds)})`, String(reactor.inFlight),
            String(reactor.delivered), String(reactor.failures), String(reactor.parked), instant(reactor.lastDeliveredAt),
          ]]),
          reactor.lastError ? h("p", { class: "error-text" }, `Last error (${instant(reactor.lastErrorAt)}): ${reactor.lastError}`) : null,
          reactor.nextAttemptAt ? h("p", { class: "muted" }, `Next attempt ${instant(reactor.nextAttemptAt)}`) : null,
          h("h3", {}, "Parked events"), parkedTable(session, reactor.name, parked, refresh, problems));
      }));
      fill(list, sections.length ? sections : h("p", { class: "muted" }, "This server runs no reactors."));
    } catch (error) {
      fill(problems, errorBox(error));
    } finally {
      busy = null;
    }
  };
  await refresh();
  const poller = setInterval(refresh, 3000);
  return () => clearInterval(poller);
}
