// The event outbox and its shipper: events wait in storage (chrome.storage.local in the browser)
// until the service's ingest API (docs/sensor-api.md) has them, across restarts and days offline.
// As the proxy's shipper does (proxy_addon/shipper.py): events the service defers (their time is
// more than a day ahead of its clock: this device's clock is ahead) are kept and sent again later,
// and after a batch the outbox's status is sent alone when it changed (on draining), so the
// Sensors page shows the queue as it is.
//
// `storage` is anything with chrome.storage's `get(keys)` / `set(items)` promise API, so Node's
// tests run this module against a file-backed store. Pure otherwise: `fetch` and `now` are given.

export const EVENTS_KEY = "outbox.events";
export const DROPPED_KEY = "outbox.dropped";
export const SHIP_KEY = "outbox.ship";
export const DEFERRED_KEY = "outbox.deferred"; // {ids, retry_at}: kept, not sent until retry_at
export const MAX_EVENTS = 5000;
export const BATCH_SIZE = 500;
export const MAX_BATCH_BYTES = 900 * 1024; // the service refuses more than 1 MiB
const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 15 * 60_000;
/** How long deferred events wait before they are sent again (the proxy's deferred_retry). */
export const DEFERRED_RETRY_MS = 10 * 60_000;

export class Outbox {
  /** @param storage chrome.storage.local-like; @param max events kept before new ones are dropped */
  constructor(storage, { max = MAX_EVENTS } = {}) {
    this.storage = storage;
    this.max = max;
    this.chain = Promise.resolve();
  }

  /** Serialise read-modify-write cycles: the worker may record while it ships. */
  locked(fn) {
    const run = this.chain.then(fn, fn);
    this.chain = run.catch(() => {});
    return run;
  }

  async read() {
    const got = await this.storage.get([EVENTS_KEY, DROPPED_KEY]);
    return { events: got[EVENTS_KEY] ?? [], dropped: got[DROPPED_KEY] ?? 0 };
  }

  /** Keep an event; false (and counted as dropped) when the outbox is full. */
  add(event) {
    return this.locked(async () => {
      const { events, dropped } = await this.read();
      if (events.length >= this.max) {
        await this.storage.set({ [DROPPED_KEY]: dropped + 1 });
        return false;
      }
      events.push(event);
      await this.storage.set({ [EVENTS_KEY]: events });
      return true;
    });
  }

  async _deferred() {
    return (await this.storage.get([DEFERRED_KEY]))[DEFERRED_KEY] ?? { ids: [], retry_at: 0 };
  }

  /** The oldest events waiting and not deferred, at most `limit` of them and `maxBytes` of JSON. */
  pending(limit = BATCH_SIZE, maxBytes = MAX_BATCH_BYTES) {
    return this.locked(async () => {
      const { events } = await this.read();
      const deferred = new Set((await this._deferred()).ids);
      const out = [];
      let bytes = 0;
      for (const event of events) {
        if (out.length >= limit) break;
        if (deferred.has(event.id)) continue;
        bytes += JSON.stringify(event).length + 1;
        if (out.length && bytes > maxBytes) break;
        out.push(event);
      }
      return out;
    });
  }

  /** Forget events the service stored (by id). */
  remove(ids) {
    const gone = new Set(ids);
    return this.locked(async () => {
      const { events } = await this.read();
      await this.storage.set({ [EVENTS_KEY]: events.filter((e) => !gone.has(e.id)) });
    });
  }

  /** Keep events the service deferred (by id), unsent until `retryAt` (epoch ms). */
  defer(ids, retryAt) {
    return this.locked(async () => {
      const deferred = await this._deferred();
      const all = [...new Set([...deferred.ids, ...ids])];
      await this.storage.set({ [DEFERRED_KEY]: { ids: all, retry_at: Math.max(deferred.retry_at, retryAt) } });
    });
  }

  /** Deferred events become pending again once their time has come (`now`, epoch ms; always
   * when `now` is omitted); returns how many. */
  retryDeferred(now = Infinity) {
    return this.locked(async () => {
      const deferred = await this._deferred();
      if (!deferred.ids.length || now < deferred.retry_at) return 0;
      await this.storage.set({ [DEFERRED_KEY]: { ids: [], retry_at: 0 } });
      return deferred.ids.length;
    });
  }

  /** Set aside events the service refused for good (counted as dropped). */
  reject(ids) {
    const gone = new Set(ids);
    return this.locked(async () => {
      const { events, dropped } = await this.read();
      const kept = events.filter((e) => !gone.has(e.id));
      await this.storage.set({ [EVENTS_KEY]: kept, [DROPPED_KEY]: dropped + events.length - kept.length });
    });
  }

  /** The sensor_status of docs/sensor-api.md (deferred events are pending too). */
  status() {
    return this.locked(async () => {
      const { events, dropped } = await this.read();
      let oldest = null;
      for (const e of events) if (oldest === null || e.time < oldest) oldest = e.time;
      return { outbox_pending: events.length, outbox_dropped: dropped, oldest_pending: oldest };
    });
  }
}

/** The sensor's clock as the ingest API writes times (YYYY-MM-DDTHH:MM:SSZ). */
const utc = (ms) => new Date(ms).toISOString().replace(/\.\d{3}Z$/, "Z");

/** POST {serviceUrl}/api/v1/events with `events` and the outbox's status: the answer and its JSON. */
async function post(outbox, events, { serviceUrl, token, fetch, now }) {
  const status = await outbox.status();
  const response = await fetch(`${serviceUrl.replace(/\/+$/, "")}/api/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ events, sensor_status: { ...status, sent_at: utc(now()) } }),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  return { response, body, status };
}

const stored = (response) => response.status === 200 || response.status === 201 || response.status === 202;

/**
 * Send one batch to POST {serviceUrl}/api/v1/events. Returns {sent, deferred, more, status (the
 * sensor_status the service took with it, else null)}; throws on a failure worth retrying later (network, 5xx, 401/403 until the
 * school fixes the token). Events the 202 names as deferred are kept for DEFERRED_RETRY_MS.
 */
export async function shipOnce(outbox, { serviceUrl, token, fetch, now = Date.now, batchSize = BATCH_SIZE }) {
  const batch = await outbox.pending(batchSize);
  if (!batch.length) return { sent: 0, deferred: 0, more: false, batchSize, status: null };
  const { response, body, status } = await post(outbox, batch, { serviceUrl, token, fetch, now });
  if (stored(response)) {
    const named = body && Array.isArray(body.deferred) ? body.deferred : [];
    const later = new Set(named.filter((i) => Number.isInteger(i) && i >= 0 && i < batch.length).map((i) => batch[i].id));
    await outbox.remove(batch.map((e) => e.id).filter((id) => !later.has(id)));
    if (later.size) await outbox.defer([...later], now() + DEFERRED_RETRY_MS);
    return { sent: batch.length - later.size, deferred: later.size, more: batch.length === batchSize, batchSize, status };
  }
  if (response.status === 413 && batchSize > 1) {
    return { sent: 0, deferred: 0, more: true, batchSize: Math.max(1, Math.floor(batchSize / 2)), status: null };
  }
  if (response.status === 400 && body && Array.isArray(body.problems)) {
    // Nothing of the batch was stored: set aside the events named, resend the rest.
    const bad = body.problems
      .map((p) => p && p.index)
      .filter((i) => Number.isInteger(i) && i >= 0 && i < batch.length)
      .map((i) => batch[i].id);
    if (bad.length) {
      await outbox.reject(bad);
      return { sent: 0, deferred: 0, more: true, batchSize, rejected: bad.length, status: null };
    }
  }
  throw new Error(`POST /api/v1/events answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
}

/** Two sensor_status values say the same of the outbox (`sent_at` aside). */
const sameStatus = (a, b) =>
  Boolean(a && b) && ["outbox_pending", "outbox_dropped", "oldest_pending"].every((k) => a[k] === b[k]);

/**
 * Ship what is pending unless an earlier failure asked to wait (exponential backoff with full
 * jitter, state kept in `storage` so it survives the worker sleeping), then, if the outbox's
 * status changed since the service last heard it (it drained), send the status alone
 * (`"events": []`). Deferred events whose wait is over are sent again. Returns the ship state.
 */
export async function shipPending(outbox, storage, { serviceUrl, token, fetch, now, random = Math.random }) {
  const state = (await storage.get([SHIP_KEY]))[SHIP_KEY] ?? { failures: 0, next_at: 0 };
  if (!serviceUrl || !token) return { ...state, skipped: "not configured" };
  if (now() < state.next_at) return { ...state, skipped: "backing off" };
  let batchSize = BATCH_SIZE;
  let sent = 0;
  let deferred = 0;
  let told = state.last_status ?? null; // the status the service last had from this sensor
  try {
    await outbox.retryDeferred(now());
    for (let round = 0; round < 20; round++) {
      const result = await shipOnce(outbox, { serviceUrl, token, fetch, now, batchSize });
      sent += result.sent;
      deferred += result.deferred;
      batchSize = result.batchSize;
      if (result.status) told = result.status;
      if (!result.more) break;
    }
    if (!sameStatus(await outbox.status(), told)) {
      const { response, body, status } = await post(outbox, [], { serviceUrl, token, fetch, now });
      if (!stored(response)) throw new Error(`POST /api/v1/events answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
      told = status;
    }
    const next = {
      failures: 0,
      next_at: 0,
      last_success: new Date(now()).toISOString(),
      last_error: null,
      sent,
      deferred,
      last_status: told,
    };
    await storage.set({ [SHIP_KEY]: { ...state, ...next } });
    return { ...state, ...next };
  } catch (err) {
    const failures = (state.failures ?? 0) + 1;
    const cap = Math.min(MAX_DELAY_MS, BASE_DELAY_MS * 2 ** Math.min(failures, 20));
    const delay = BASE_DELAY_MS + random() * (cap - BASE_DELAY_MS);
    const next = { ...state, failures, next_at: now() + delay, last_error: String(err.message ?? err), sent };
    await storage.set({ [SHIP_KEY]: next });
    return next;
  }
}

/** Try again at once (new settings, a browser start): keep the failure count, drop the wait;
 * deferred events too are sent again (as the proxy does at start). */
export async function resetBackoff(storage) {
  const got = await storage.get([SHIP_KEY, DEFERRED_KEY]);
  const state = got[SHIP_KEY];
  if (state && state.next_at) await storage.set({ [SHIP_KEY]: { ...state, next_at: 0 } });
  const deferred = got[DEFERRED_KEY];
  if (deferred && deferred.retry_at) await storage.set({ [DEFERRED_KEY]: { ...deferred, retry_at: 0 } });
}
