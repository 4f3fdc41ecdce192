// Chronicle's JavaScript client: an ES module with no dependencies (fetch + EventSource),
// served by every Chronicle server at /client.js.
//
//   import { Chronicle, ChronicleError } from "http://127.0.0.1:8080/client.js";
//   const chronicle = new Chronicle({ baseURL: "http://127.0.0.1:8080", apiKey: "…" });
//   const { position, correlationId } = await chronicle.post("UserCreated", { userId: "ada", email: "ada@example.com" });
//   const user = await chronicle.entity("user", "ada", { after: position });   // read your own write
//   const outcome = await chronicle.outcome(correlationId, ["WelcomeEmailSent"], { timeout: 10000 });
//
// Every failed call throws a ChronicleError carrying the problem the server answered
// (application/problem+json): code, status, title, detail and its other members in `fields`.

/** An error from the server (a problem document) or from the client itself (`code`
 * `network-error`, `timeout`, `invalid-response`). Branch on `code`. */
export class ChronicleError extends Error {
  constructor({ code, status = 0, title = "", detail = "", type = "", fields = {} }) {
    super(detail || title || code);
    this.name = "ChronicleError";
    /** The stable code, such as `wrong-expected-revision` or `email-unverified`. */
    this.code = code;
    /** The HTTP status (0 when no answer came). */
    this.status = status;
    this.title = title;
    /** What went wrong and what to do about it. */
    this.detail = detail;
    /** The problem's `type` URI. */
    this.type = type;
    /** The problem's other members: `actualRevision`, `rule`, `pointer`, `position`, and for
     * a refused moment `head`, `first`, `historyFrom` or `lag`… */
    this.fields = fields;
  }

  /** The rule that refused a write, when a schema precondition did. */
  get rule() { return this.fields.rule; }

  /** Builds the error for a problem document. */
  static fromProblem(problem, status) {
    const { code, title, detail, type, status: problemStatus, ...fields } = problem ?? {};
    return new ChronicleError({
      code: code ?? `http-${status}`, status: problemStatus ?? status, title: title ?? "", detail: detail ?? "", type: type ?? "", fields,
    });
  }
}

/** A random UUID (crypto.randomUUID where the page is a secure context, else from getRandomValues). */
export function uuid() {
  if (globalThis.crypto?.randomUUID) return globalThis.crypto.randomUUID();
  const bytes = globalThis.crypto.getRandomValues(new Uint8Array(16));
  bytes[6] = (bytes[6] & 0x0f) | 0x40;
  bytes[8] = (bytes[8] & 0x3f) | 0x80;
  const hex = [...bytes].map((b) => b.toString(16).padStart(2, "0")).join("");
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

const segment = (text) => encodeURIComponent(String(text));

/** A moment as the server takes it: a position as it is, a Date as an RFC 3339 instant. */
const moment = (value) => (value instanceof Date ? value.toISOString() : value);

function queryString(parameters) {
  const search = new URLSearchParams();
  for (const [name, value] of Object.entries(parameters ?? {})) {
    if (value === undefined || value === null) continue;
    for (const item of Array.isArray(value) ? value : [value]) search.append(name, String(moment(item)));
  }
  const text = search.toString();
  return text ? `?${text}` : "";
}

/** Events as the server takes them: each gets an id here, so a retried append is stored once. */
function withIds(events) {
  return events.map((event) => ({ id: uuid(), data: {}, ...event }));
}

/** A client of one Chronicle server. */
export class Chronicle {
  /**
   * @param {object} options
   * @param {string} [options.baseURL] the server (default: the page's own origin)
   * @param {string} [options.apiKey] sent as `Authorization: Bearer` (and as `access_token`
   *   on subscriptions, where a browser cannot set headers)
   */
  constructor({ baseURL = "", apiKey = null, fetch: fetchFunction = null } = {}) {
    this.baseURL = baseURL.replace(/\/$/, "");
    this.apiKey = apiKey;
    this.fetch = fetchFunction ?? globalThis.fetch.bind(globalThis);
  }

  /** Sends one request; answers the JSON body (or null), throws a ChronicleError. */
  async request(method, path, { body, headers = {}, signal } = {}) {
    const sent = { ...headers };
    if (this.apiKey) sent.Authorization = `Bearer ${this.apiKey}`;
    if (body !== undefined) sent["Content-Type"] = "application/json";
    let response;
    try {
      response = await this.fetch(this.baseURL + path, { method, headers: sent, body: body === undefined ? undefined : JSON.stringify(body), signal });
    } catch (error) {
      if (error?.name === "AbortError") throw error;
      throw new ChronicleError({ code: "network-error", detail: `${method} ${path}: ${error?.message ?? error}` });
    }
    const text = await response.text();
    let json = null;
    if (text) {
      try { json = JSON.parse(text); } catch {
        if (!response.ok) throw new ChronicleError({ code: `http-${response.status}`, status: response.status, detail: text.slice(0, 200) });
        return text;
      }
    }
    if (!response.ok) throw ChronicleError.fromProblem(json, response.status);
    if (json && typeof json === "object" && !Array.isArray(json)) {
      Object.defineProperty(json, "headers", { value: response.headers, enumerable: false });
    }
    return json;
  }

  // Writes

  /** Appends events to one stream. `expectedRevision`: "any", "noStream", "streamExists" or a
   * number; `condition`: a DCB append condition `{ failIfEventsMatch, after }`. */
  append(stream, events, { expectedRevision, condition, correlationId } = {}) {
    const body = { events: withIds(Array.isArray(events) ? events : [events]) };
    if (expectedRevision !== undefined) body.expectedRevision = expectedRevision;
    if (condition !== undefined) body.condition = condition;
    return this.request("POST", `/v1/streams/${segment(stream)}`, { body, headers: correlationId ? { "X-Correlation-ID": correlationId } : {} });
  }

  /** Appends to several streams at once, all or nothing: `streams` is
   * `[{ stream, expectedRevision, events }]`, `condition` a DCB append condition. */
  appendMany(streams, { condition, correlationId } = {}) {
    const body = { streams: streams.map((part) => ({ ...part, events: withIds(part.events) })) };
    if (condition !== undefined) body.condition = condition;
    return this.request("POST", "/v1/append", { body, headers: correlationId ? { "X-Correlation-ID": correlationId } : {} });
  }

  /** Posts a declarative event (the schema maps its type to an entity and checks its rules).
   * Answers `{ entity, id, stream, revision, position, correlationId, eventId, replayed }`.
   * `ifMatch`: the entity's version (its ETag) the write expects. `idempotencyKey` (a new UUID
   * by default) is the event's id: posting again with the same key after a lost answer stores
   * nothing twice and answers the original result with `replayed: true`. */
  post(eventType, payload, { ifMatch, correlationId, idempotencyKey = uuid() } = {}) {
    const headers = { "Idempotency-Key": idempotencyKey };
    if (ifMatch !== undefined) headers["If-Match"] = `"${ifMatch}"`;
    if (correlationId) headers["X-Correlation-ID"] = correlationId;
    return this.request("POST", `/v1/events/${segment(eventType)}`, { body: payload, headers });
  }

  /** Deletes a stream: `mode` "soft" (default) or "hard" (admin). */
  deleteStream(stream, { mode = "soft" } = {}) {
    return this.request("DELETE", `/v1/streams/${segment(stream)}${queryString({ mode })}`);
  }

  // Reads

  /** An entity's document. `version` or `at` (an instant) read its past; `asOf` (a position,
   * an RFC 3339 instant or a Date) reads it as the whole read model was then (the answer's
   * `asOf` says which position); `after` (a position an append answered) waits up to `wait`
   * (default "5s") until the read models include it: read your own write. `includeDeleted`
   * shows a soft-deleted entity's last state. A moment the server refuses is a ChronicleError
   * `moment-out-of-range` (with `fields.head`, `first` or `historyFrom`) or `not-caught-up`
   * (with `fields.lag`). */
  entity(entity, id, { version, at, asOf, after, wait, includeDeleted, projection } = {}) {
    return this.request("GET", `/v1/entities/${segment(entity)}/${segment(id)}${queryString({ version, at, asOf, after, wait, includeDeleted, projection })}`);
  }

  /** Reads your own write: the entity once the read models have reached `position`. */
  readYourWrite(entity, id, position, { wait = "5s" } = {}) {
    return this.entity(entity, id, { after: position, wait });
  }

  /** A page of an entity's documents. `filters`: `{ field: value }` or `{ "age[gte]": 18 }`;
   * `sort`: "field" or "-field"; `cursor`: the previous page's `next`; `asOf`: the list as it
   * was at a position or instant (one cut; the answer's `asOf` says which position). */
  list(entity, { filters = {}, sort, limit, cursor, includeDeleted, asOf, projection } = {}) {
    return this.request("GET", `/v1/entities/${segment(entity)}${queryString({ ...filters, sort, limit, cursor, includeDeleted, asOf, projection })}`);
  }

  /** What changed in the read model in (`from`, `to`] (positions, instants or Dates): a page
   * `{ from, to, changes: [{ entity, id, kind, position, before, after, patch }], next }`,
   * `kind` one of created, changed, deleted, restored, erased; `entity` keeps one kind of
   * entity; `cursor` is the previous page's `next`. */
  changes({ from, to, entity, limit, cursor, projection } = {}) {
    return this.request("GET", `/v1/changes${queryString({ from, to, entity, limit, cursor, projection })}`);
  }

  /** Which event last set each field of an entity (now, or `asOf` a moment): `{ entity, id,
   * version, asOf, fields: [{ pointer, value, eventId, position, revision, type, recordedAt,
   * correlationId, actor }] }`. */
  blame(entity, id, { asOf, projection } = {}) {
    return this.request("GET", `/v1/entities/${segment(entity)}/${segment(id)}/blame${queryString({ asOf, projection })}`);
  }

  /** Every document the event at `position` changed, with the JSON Patch it made to each:
   * `{ projection, event, effects: [{ entity, id, change, version, deleted, state, patch }] }`. */
  effects(position, { projection } = {}) {
    return this.request("GET", `/v1/events/${segment(String(position))}/effects${queryString({ projection })}`);
  }

  /** Forgets a subject (admin role): destroys their key, so their personal fields read
   * `{"$erased": true}` everywhere. Answers `{ receipt: { id, subject, actor, erasedAt, position,
   * events, documents }, replayed }`; safe to repeat (a subject already erased answers with its
   * first receipt). */
  eraseSubject(subject, { actor } = {}) {
    return this.request("POST", "/v1/erasures", { body: actor === undefined ? { subject } : { subject, actor } });
  }

  /** An erasure's receipt (admin role). */
  erasureReceipt(id) {
    return this.request("GET", `/v1/erasures/${segment(id)}`);
  }

  /** Each event of an entity with the JSON Patch it made: `{ entity, id, history: [{ version, stream, position, type, recordedAt, deleted, patch }] }`
   * (`stream`: the event's, when another stream's event changed the entity). */
  history(entity, id, { projection } = {}) {
    return this.request("GET", `/v1/entities/${segment(entity)}/${segment(id)}/history${queryString({ projection })}`);
  }

  /** The JSON Patch between two versions (or instants) of an entity. */
  diff(entity, id, from, to, { projection } = {}) {
    return this.request("GET", `/v1/entities/${segment(entity)}/${segment(id)}/diff${queryString({ from, to, projection })}`);
  }

  /** A stream's events: `from` (a revision or "end"), `direction`, `limit`. */
  readStream(stream, { from, direction, limit } = {}) {
    return this.request("GET", `/v1/streams/${segment(stream)}${queryString({ from, direction, limit })}`);
  }

  /** A page of the global log: `after` (a position or "end"), `limit`, `type`, `category`, `correlation`. */
  log({ after, limit, type, category, correlation } = {}) {
    return this.request("GET", `/v1/log${queryString({ after, limit, type, category, correlation })}`);
  }

  /** A DCB read: the events matching `query` (`{ items: [{ types, tags }] }`) after a position, with the `head` a conditional append uses. */
  query(query, { after, limit } = {}) {
    const body = { query };
    if (after !== undefined) body.after = after;
    if (limit !== undefined) body.limit = limit;
    return this.request("POST", "/v1/query", { body });
  }

  /** Every event one request caused, in order. */
  correlation(correlationId, { after, limit } = {}) {
    return this.request("GET", `/v1/correlations/${segment(correlationId)}${queryString({ after, limit })}`);
  }

  // Operations

  health() { return this.request("GET", "/health/ready"); }
  whoami() { return this.request("GET", "/v1/whoami"); }
  projections() { return this.request("GET", "/v1/projections"); }
  rebuild(projection) { return this.request("POST", `/v1/projections/${segment(projection)}/rebuild`); }
  reactors() { return this.request("GET", "/v1/reactors"); }
  parked(reactor) { return this.request("GET", `/v1/reactors/${segment(reactor)}/parked`); }
  retryParked(reactor, eventId) { return this.request("POST", `/v1/reactors/${segment(reactor)}/parked/${segment(eventId)}/retry`); }
  skipParked(reactor, eventId) { return this.request("POST", `/v1/reactors/${segment(reactor)}/parked/${segment(eventId)}/skip`); }

  /** Prometheus text of `/metrics`. */
  async metrics() {
    const text = await this.request("GET", "/metrics");
    return typeof text === "string" ? text : "";
  }

  // Live

  /**
   * Follows the log after `after` (a position, "end", default 0): catch-up, then live, in
   * order. A dropped connection is resumed after the last event received (`Last-Event-ID`),
   * so no event is missed or repeated. Filters: `type`, `category`, `correlation` (each a
   * string or a list), `query` (a DCB query). Returns `{ close(), position }`.
   *
   * `onEvent(event)` gets each event; `onState("open" | "reconnecting" | "closed")` the
   * connection's state; `onError(ChronicleError)` an error that ended the subscription (a key
   * that is refused, a bad filter).
   *
   * The event stream is read with fetch, so the key goes in the Authorization header. Pass
   * `transport: "eventsource"` to use the browser's EventSource instead (the key then travels
   * as `?access_token=`, the one place the server takes it in the URL); EventSource only hands
   * over events whose type it listens for, so give it the `type` filter.
   */
  subscribe({ after = 0, type, category, correlation, query, onEvent = () => {}, onState = () => {}, onError = () => {}, retryDelay = 1000, transport = "fetch" } = {}) {
    const state = { position: after, closed: false, timer: null, abort: null, source: null };
    const deliver = (id, data) => {
      const number = Number(id);
      if (!Number.isFinite(number) || (typeof state.position === "number" && number <= state.position)) return;
      state.position = number;
      let event;
      try { event = JSON.parse(data); } catch { return; }
      onEvent(event);
    };
    const parameters = () => ({ after: state.position, type, category, correlation, query: query ? JSON.stringify(query) : undefined });
    const fail = (error) => {
      state.closed = true;
      onState("closed");
      onError(error);
    };
    const retry = () => {
      if (state.closed) return;
      onState("reconnecting");
      clearTimeout(state.timer);
      state.timer = setTimeout(run, retryDelay);
    };
    const run = transport === "eventsource" ? () => {
      if (state.closed) return;
      const search = parameters();
      if (this.apiKey) search.access_token = this.apiKey;
      const source = new EventSource(`${this.baseURL}/v1/subscribe${queryString(search)}`);
      state.source = source;
      const handle = (message) => deliver(message.lastEventId, message.data);
      source.addEventListener("message", handle);
      for (const name of [type ?? []].flat()) source.addEventListener(name, handle);
      source.onopen = () => onState("open");
      source.onerror = () => {
        source.close();
        if (state.closed) return;
        // EventSource hides the status; ask the server whether the key still works.
        this.whoami().then(retry, (error) => (error.status === 401 || error.status === 403 ? fail(error) : retry()));
      };
    } : async () => {
      if (state.closed) return;
      const abort = new AbortController();
      state.abort = abort;
      const headers = { Accept: "text/event-stream" };
      if (this.apiKey) headers.Authorization = `Bearer ${this.apiKey}`;
      if (typeof state.position === "number" && state.position > 0) headers["Last-Event-ID"] = String(state.position);
      try {
        const response = await this.fetch(`${this.baseURL}/v1/subscribe${queryString(parameters())}`, { headers, signal: abort.signal });
        if (!response.ok) {
          let problem = null;
          try { problem = JSON.parse(await response.text()); } catch { problem = null; }
          const error = ChronicleError.fromProblem(problem, response.status);
          if (response.status >= 500) { retry(); } else { fail(error); }
          return;
        }
        onState("open");
        const reader = response.body.pipeThrough(new TextDecoderStream()).getReader();
        let buffer = "";
        for (;;) {
          const { value, done } = await reader.read();
          if (done) break;
          buffer += value.replace(/\r\n?/g, "\n");
          let end;
          while ((end = buffer.indexOf("\n\n")) >= 0) {
            const block = buffer.slice(0, end);
            buffer = buffer.slice(end + 2);
            let id = null, name = "message", data = [];
            for (const line of block.split("\n")) {
              if (line.startsWith(":")) continue;
              const colon = line.indexOf(":");
              const field = colon < 0 ? line : line.slice(0, colon);
              const text = colon < 0 ? "" : line.slice(colon + 1).replace(/^ /, "");
              if (field === "id") id = text;
              else if (field === "event") name = text;
              else if (field === "data") data.push(text);
            }
            if (name !== "shutdown" && id !== null && data.length) deliver(id, data.join("\n"));
          }
        }
        retry();
      } catch (error) {
        if (!state.closed) retry();
      }
    };
    run();
    return {
      close() {
        state.closed = true;
        clearTimeout(state.timer);
        state.abort?.abort();
        state.source?.close();
        onState("closed");
      },
      get position() { return state.position; },
    };
  }

  /**
   * Waits until the asynchronous work of one request has produced an event of one of
   * `types` (or a `$reactorParked`: a side effect that gave up), and answers that event.
   * Throws a ChronicleError `timeout` after `timeout` milliseconds (default 30 s).
   */
  outcome(correlationId, types, { timeout = 30000, after = 0 } = {}) {
    const wanted = new Set([types].flat());
    return new Promise((resolve, reject) => {
      let subscription = null;
      const timer = setTimeout(() => {
        subscription?.close();
        reject(new ChronicleError({ code: "timeout", detail: `No ${[...wanted].join(" or ")} (nor $reactorParked) for correlation ${correlationId} within ${timeout} ms.` }));
      }, timeout);
      subscription = this.subscribe({
        after, correlation: correlationId,
        onEvent: (event) => {
          if (!wanted.has(event.type) && event.type !== "$reactorParked") return;
          clearTimeout(timer);
          subscription.close();
          resolve(event);
        },
        onError: (error) => {
          clearTimeout(timer);
          reject(error);
        },
      });
    });
  }
}
