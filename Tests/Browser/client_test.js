// client.js against the real server, in headless Chromium: run by console_test.py with
// execute_async_script(text, adminKey, readKey); answers { checks } or { error }.
const [adminKey, readKey, done] = [arguments[0], arguments[1], arguments[arguments.length - 1]];
(async () => {
  const { Chronicle, ChronicleError } = await import(new URL("/client.js", location.href).href);
  const chronicle = new Chronicle({ apiKey: adminKey });
  const checks = [];
  const check = (name, condition, detail) => {
    if (!condition) throw new Error(`${name}: ${JSON.stringify(detail)}`);
    checks.push(name);
  };
  const failure = async (promise) => {
    try { await promise; } catch (error) { return error; }
    throw new Error("expected the call to fail");
  };
  const suffix = crypto.randomUUID().slice(0, 8);

  // append, with an expectation; a stale one is a typed error with the actual revision
  const order = `order-${suffix}`;
  const first = await chronicle.append(order, { type: "OrderPlaced", data: { total: 5 } }, { expectedRevision: "noStream" });
  check("append", first.stream === order && first.firstRevision === 0 && first.lastPosition > 0, first);
  const second = await chronicle.append(order, [{ type: "OrderPaid" }, { type: "OrderShipped" }], { expectedRevision: 0 });
  check("append several", second.lastRevision === 2, second);
  const stale = await failure(chronicle.append(order, { type: "OrderPaid" }, { expectedRevision: 0 }));
  check("conflict is a ChronicleError", stale instanceof ChronicleError && stale.code === "wrong-expected-revision" && stale.status === 409 && stale.fields.actualRevision === 2, { code: stale.code, status: stale.status, fields: stale.fields });
  check("read a stream", (await chronicle.readStream(order)).events.length === 3);

  // multi-stream append with expectations and a DCB condition
  const tag = `sku:${suffix}`;
  const many = await chronicle.appendMany([
    { stream: `stock-${suffix}`, expectedRevision: "noStream", events: [{ type: "StockReserved", tags: [tag] }] },
    { stream: order, expectedRevision: 2, events: [{ type: "OrderReserved", tags: [tag] }] },
  ], { condition: { failIfEventsMatch: { items: [{ types: ["StockReleased"], tags: [tag] }] }, after: 0 } });
  check("append to several streams", many.streams.length === 2 && many.position > second.lastPosition, many);
  const matched = await chronicle.query({ items: [{ tags: [tag] }] });
  check("query", matched.events.length === 2 && matched.head >= many.position, matched);
  await chronicle.append(`stock-${suffix}`, { type: "StockReleased", tags: [tag] });
  const refused = await failure(chronicle.appendMany([{ stream: `stock-${suffix}`, events: [{ type: "StockReserved", tags: [tag] }] }],
    { condition: { failIfEventsMatch: { items: [{ types: ["StockReleased"], tags: [tag] }] }, after: matched.head } }));
  check("a failed condition", refused.code === "append-condition-failed" && refused.status === 409, { code: refused.code });

  // declarative writes, read your own write, list, history, diff
  const created = await chronicle.post("UserCreated", { id: `js-${suffix}`, name: "Grace", email: "grace@example.com" });
  check("post", created.entity === "user" && created.id === `js-${suffix}` && created.correlationId, created);
  const updated = await chronicle.post("UserUpdatedEmailAddress", { id: `js-${suffix}`, email: "grace@navy.mil" }, { ifMatch: 0 });
  const user = await chronicle.readYourWrite("user", `js-${suffix}`, updated.position);
  check("read your own write", user.version === 1 && user.state.email === "grace@navy.mil", user);
  check("entity at a version", (await chronicle.entity("user", `js-${suffix}`, { version: 0 })).state.email === "grace@example.com");
  const listed = await chronicle.list("user", { filters: { name: "Grace" } });
  check("list", listed.documents.some((document) => document.id === `js-${suffix}`), listed);
  const history = await chronicle.history("user", `js-${suffix}`);
  check("history", history.history.length === 2 && history.history[1].patch.some((operation) => operation.path === "/email"), history);
  const diff = await chronicle.diff("user", `js-${suffix}`, 0, 1);
  check("diff", diff.patch.length === 1 && diff.patch[0].op === "replace", diff);
  const unknown = await failure(chronicle.post("NoSuchEvent", {}));
  check("unknown event type", unknown.code === "unknown-event-type" && unknown.status === 404, { code: unknown.code });
  const stalePost = await failure(chronicle.post("UserUpdatedEmailAddress", { id: `js-${suffix}`, email: "x@example.com" }, { ifMatch: 0 }));
  check("a stale If-Match on a declarative write", stalePost.status === 409, { code: stalePost.code, status: stalePost.status });
  const missing = await failure(chronicle.entity("user", `nobody-${suffix}`));
  check("entity not found", missing.code === "entity-not-found" && missing.status === 404 && missing.detail.length > 0);

  // the read model across time: as of a moment, changes between two, blame
  const grace = `js-${suffix}`;
  const early = await chronicle.entity("user", grace, { asOf: created.position });
  check("entity as of an early position", early.asOf === created.position && early.version === 0 && early.state.email === "grace@example.com", early);
  const firstUsers = await chronicle.list("user", { asOf: 1 });
  check("list as of position 1", firstUsers.asOf === 1 && firstUsers.documents.map((document) => document.id).join() === "ada" && firstUsers.documents[0].version === 0, firstUsers);
  const before = await chronicle.list("user", { asOf: created.position - 1, filters: { name: "Grace" } });
  check("list as of before a create", before.documents.length === 0 && before.asOf === created.position - 1, before);
  const atInstant = await chronicle.list("user", { asOf: new Date(), filters: { name: "Grace" } });
  check("list as of an instant (a Date)", atInstant.documents.some((document) => document.id === grace && document.version === 1) && atInstant.asOf >= updated.position, atInstant);
  const changed = await chronicle.changes({ from: created.position - 1, to: updated.position, entity: "user" });
  const graceChange = changed.changes.find((change) => change.id === grace);
  check("changes between two positions", changed.from === created.position - 1 && changed.to === updated.position && graceChange?.kind === "created"
    && graceChange.before === null && graceChange.after.state.email === "grace@navy.mil" && graceChange.patch.some((operation) => operation.path === "/email"), changed);
  const paged = await chronicle.changes({ from: 0, to: updated.position, entity: "user", limit: 1 });
  const rest = await chronicle.changes({ from: 0, to: updated.position, entity: "user", limit: 1, cursor: paged.next });
  check("changes paged with a cursor", paged.changes.length === 1 && paged.next && rest.changes.length === 1 && rest.changes[0].id !== paged.changes[0].id, { paged, rest });
  const blame = await chronicle.blame("user", grace);
  const email = blame.fields.find((field) => field.pointer === "/email");
  check("blame", blame.asOf === null && blame.version === 1 && email?.type === "UserUpdatedEmailAddress" && email.position === updated.position && email.revision === 1
    && email.value === "grace@navy.mil" && email.eventId && email.recordedAt && "actor" in email && email.correlationId === updated.correlationId
    && blame.fields.find((field) => field.pointer === "/name")?.type === "UserCreated", blame);
  const effects = await chronicle.effects(updated.position);
  check("the effects of an event", effects.event.position === updated.position && effects.effects.length === 1 && effects.effects[0].id === grace
    && effects.effects[0].change === "updated" && effects.effects[0].patch.some((operation) => operation.path === "/email") && effects.effects[0].state.email === "grace@navy.mil", effects);
  const blameThen = await chronicle.blame("user", grace, { asOf: created.position });
  check("blame as of a position", blameThen.asOf === created.position && blameThen.fields.find((field) => field.pointer === "/email")?.type === "UserCreated", blameThen);
  const beyond = await failure(chronicle.entity("user", grace, { asOf: updated.position + 1000000 }));
  check("as of beyond the head: moment-out-of-range with the head", beyond instanceof ChronicleError && beyond.code === "moment-out-of-range" && beyond.status === 400
    && typeof beyond.fields.head === "number" && beyond.fields.head >= updated.position && beyond.detail.includes("beyond"), { code: beyond.code, status: beyond.status, fields: beyond.fields });
  const tooEarly = await failure(chronicle.list("user", { asOf: "2000-01-01T00:00:00Z" }));
  check("as of before the first event: 404 with first", tooEarly.code === "moment-out-of-range" && tooEarly.status === 404 && typeof tooEarly.fields.first === "string", { code: tooEarly.code, fields: tooEarly.fields });
  const backwards = await failure(chronicle.changes({ from: updated.position, to: created.position - 1 }));
  check("changes from after to", backwards.code === "moment-out-of-range" && backwards.status === 400, { code: backwards.code });

  // a read key may read but not write
  const reader = new Chronicle({ apiKey: readKey });
  check("read key reads", (await reader.entity("user", `js-${suffix}`)).version === 1);
  const forbidden = await failure(reader.append(order, { type: "OrderPaid" }));
  check("read key cannot write", forbidden.code === "forbidden" && forbidden.status === 403);
  check("whoami", (await reader.whoami()).role === "read");

  // subscribe: catch-up then live, in order, each event once; then again after a reconnect
  const seen = [];
  const start = first.firstPosition - 1;
  const subscription = chronicle.subscribe({ after: start, category: "order", onEvent: (event) => seen.push(event) });
  const until = (condition, what, ms = 30000) => new Promise((resolve, reject) => {
    const began = Date.now();
    const tick = () => (condition() ? resolve() : Date.now() - began > ms ? reject(new Error(`timed out waiting for ${what}`)) : setTimeout(tick, 20));
    tick();
  });
  await until(() => seen.filter((event) => event.stream === order).length >= 4, "the catch-up");
  await chronicle.append(order, { type: "OrderDelivered" });
  await until(() => seen.some((event) => event.type === "OrderDelivered" && event.stream === order), "a live event");
  const positions = seen.map((event) => event.position);
  check("subscribe in order, once each", positions.every((position, index) => index === 0 || position > positions[index - 1]), positions);
  subscription.close();
  const resumed = [];
  const again = chronicle.subscribe({ after: subscription.position, category: "order", onEvent: (event) => resumed.push(event) });
  await chronicle.append(order, { type: "OrderReturned" });
  await until(() => resumed.some((event) => event.type === "OrderReturned"), "the resumed subscription");
  check("resume after the last position, no repeats", resumed.every((event) => event.position > subscription.position), resumed.map((event) => event.position));
  again.close();

  // EventSource transport (the key as access_token), with a type filter
  const viaEventSource = [];
  const source = chronicle.subscribe({ after: start, type: ["OrderPlaced", "OrderReturned"], transport: "eventsource", onEvent: (event) => viaEventSource.push(event) });
  await until(() => viaEventSource.some((event) => event.type === "OrderReturned" && event.stream === order), "EventSource events");
  source.close();
  check("subscribe over EventSource", viaEventSource.every((event) => ["OrderPlaced", "OrderReturned"].includes(event.type)));

  // outcomes: the reactor's event for one request; a parked side effect; a timeout
  const invoice = await chronicle.post("InvoiceIssued", { id: `js-${suffix}`, amount: 7 });
  const outcome = await chronicle.outcome(invoice.correlationId, ["InvoiceSent"], { timeout: 60000 });
  check("outcome", outcome.type === "InvoiceSent" && outcome.metadata.correlationId === invoice.correlationId, outcome);
  const deleted = await chronicle.post("UserDeleted", { id: `js-${suffix}` });
  const parked = await chronicle.outcome(deleted.correlationId, ["AuditRecorded"], { timeout: 60000 });
  check("a parked outcome", parked.type === "$reactorParked" && parked.data.reactor === "audit", parked);
  const late = await failure(chronicle.outcome(`none-${suffix}`, ["Nothing"], { timeout: 300 }));
  check("outcome times out", late instanceof ChronicleError && late.code === "timeout");

  // forgetting a subject (this schema has no personal fields: a receipt that touched nothing)
  const erasure = await chronicle.eraseSubject(`nobody-${suffix}`, { actor: "js-test" });
  check("eraseSubject", erasure.replayed === false && erasure.receipt.subject === `nobody-${suffix}` && erasure.receipt.actor === "js-test"
    && erasure.receipt.events === 0 && typeof erasure.receipt.position === "number", erasure);
  const erasedAgain = await chronicle.eraseSubject(`nobody-${suffix}`);
  check("eraseSubject again: the first receipt", erasedAgain.replayed === true && erasedAgain.receipt.id === erasure.receipt.id, erasedAgain);
  const fetchedReceipt = await chronicle.erasureReceipt(erasure.receipt.id);
  check("erasureReceipt", fetchedReceipt.id === erasure.receipt.id && fetchedReceipt.subject === `nobody-${suffix}`, fetchedReceipt);

  return checks;
})().then((checks) => done({ checks }), (error) => done({ error: `${error?.message ?? error}`, stack: error?.stack }));
