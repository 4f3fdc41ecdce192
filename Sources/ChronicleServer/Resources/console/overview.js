// Overview: the head, the append rate (live over SSE, with a chart of the last minute), the
// store's size, and every projection and reactor with its lag and state.
import { h, fill, table, stat, seconds, bytes, barChart, errorBox } from "/console/ui.js";

const window_ = 60;

export function projectionState(projection) {
  if (projection.rebuild?.running) return "rebuilding";
  if (projection.lifecycle === "live") return "live (folded on read)";
  return projection.lag.events === 0 ? "caught up" : "catching up";
}

export function reactorState(reactor) {
  if (reactor.checkpoint === null || reactor.checkpoint === undefined) return "not started";
  if (reactor.parked > 0) return "parked events";
  if (reactor.nextAttemptAt) return "retrying";
  return reactor.lag.events === 0 ? "caught up" : "working";
}

/** The store size from the Prometheus text, if the server reports it. */
function storeSize(metrics) {
  const line = metrics.split("\n").find((text) => text.startsWith("chronicle_store_size_bytes"));
  return line ? Number(line.trim().split(/\s+/).pop()) : null;
}

export async function overviewPage(main, session) {
  const { client } = session;
  const counts = new Array(window_).fill(0);
  let second = Math.floor(Date.now() / 1000);
  const advance = () => {
    const now = Math.floor(Date.now() / 1000);
    while (second < now) { counts.shift(); counts.push(0); second += 1; }
  };
  const head = h("span", { id: "head" }, "–");
  const rate = h("span", { id: "rate" }, "0");
  const size = h("span", { id: "store-size" }, "–");
  const live = h("span", { id: "live-state", class: "badge" }, "connecting");
  const chart = h("div", { class: "chart-box", id: "rate-chart" });
  const projections = h("div", { id: "projections" });
  const reactors = h("div", { id: "reactors" });
  const problems = h("div");
  const notices = h("div");
  fill(main,
    h("h1", {}, "Overview"),
    h("div", { class: "stats" }, stat("Head position", head), stat("Appends / s (last minute)", rate), stat("Store size", size), stat("Live", live)),
    h("section", { class: "card" }, h("h2", {}, "Events per second"), chart),
    problems, notices,
    h("section", { class: "card" }, h("h2", {}, "Projections"), projections),
    h("section", { class: "card" }, h("h2", {}, "Reactors"), reactors));

  const headText = () => head.textContent;
  const draw = () => {
    advance();
    const total = counts.reduce((sum, value) => sum + value, 0);
    rate.textContent = (total / window_).toFixed(2);
    fill(chart, barChart(counts, { width: 600, height: 80, label: "events per second over the last minute" }));
  };

  const refresh = async () => {
    try {
      const [health, projectionList, reactorList, metrics] = await Promise.all([
        client.health(), client.projections(), client.reactors(), client.metrics().catch(() => ""),
      ]);
      head.textContent = String(Math.max(Number(head.textContent) || 0, health.position));
      const bytesOnDisk = storeSize(metrics);
      size.textContent = bytesOnDisk === null ? "not reported" : bytes(bytesOnDisk);
      const admin = session.can("admin");
      fill(projections, projectionList.projections.length === 0 ? h("p", { class: "muted" }, "No projections (start the server with --schema FILE).") :
        table(["Name", "Lifecycle", "Checkpoint", "Lag (events)", "Lag (time)", "State", admin ? "" : null].filter((label) => label !== null), projectionList.projections.map((projection) => [
          projection.name, projection.lifecycle, String(projection.checkpoint), String(projection.lag.events), seconds(projection.lag.seconds), projectionState(projection),
          admin ? (projection.lifecycle === "live" ? "" : h("button", { class: "write-action rebuild secondary", dataset: { projection: projection.name }, onclick: () => rebuild(projection.name) }, "Rebuild")) : null,
        ].filter((cell) => cell !== null))));
      fill(reactors, reactorList.reactors.length === 0 ? h("p", { class: "muted" }, "No reactors.") :
        table(["Name", "Checkpoint", "Lag (events)", "Lag (time)", "In flight", "Delivered", "Failures", "Parked", "State"], reactorList.reactors.map((reactor) => [
          h("a", { href: "#/reactors" }, reactor.name), String(reactor.checkpoint ?? "–"), String(reactor.lag.events), seconds(reactor.lag.seconds),
          String(reactor.inFlight), String(reactor.delivered), String(reactor.failures), String(reactor.parked), reactorState(reactor),
        ])));
      fill(problems);
    } catch (error) {
      fill(problems, errorBox(error));
    }
  };

  const rebuild = async (name) => {
    if (!window.confirm(`Rebuild ${name} from the log? It keeps serving the old copy until the new one is ready.`)) return;
    try {
      const answer = await client.rebuild(name);
      fill(notices, h("div", { class: "notice", role: "status", id: "rebuild-result" }, `${name} rebuilt from ${answer.replayedEvents} events.`));
    } catch (error) {
      fill(notices, errorBox(error));
    }
    await refresh();
  };

  await refresh();
  // The chart starts with the last minute of the log, then counts the live events.
  try {
    const head = Number(headText()) || 0;
    const recent = await client.log({ after: Math.max(0, head - 1000), limit: 1000 });
    advance();
    for (const event of recent.events) {
      const age = second - Math.floor(Date.parse(event.recordedAt) / 1000);
      if (age >= 0 && age < window_) counts[counts.length - 1 - age] += 1;
    }
  } catch { /* the chart only */ }
  draw();
  const subscription = client.subscribe({
    after: "end",
    onEvent: (event) => {
      advance();
      counts[counts.length - 1] += 1;
      head.textContent = String(Math.max(Number(head.textContent) || 0, event.position));
    },
    onState: (state) => { live.textContent = state; live.dataset.state = state; },
    onError: (error) => fill(problems, errorBox(error)),
  });
  const ticker = setInterval(draw, 1000);
  const poller = setInterval(refresh, 3000);
  return () => {
    subscription.close();
    clearInterval(ticker);
    clearInterval(poller);
  };
}
