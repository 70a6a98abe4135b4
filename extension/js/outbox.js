// The event outbox and its shipper: events wait in storage (chrome.storage.local in the browser)
// until the service's ingest API (docs/sensor-api.md) has them, across restarts and days offline.
//
// `storage` is anything with chrome.storage's `get(keys)` / `set(items)` promise API, so Node's
// tests run this module against a file-backed store. Pure otherwise: `fetch` and `now` are given.

export const EVENTS_KEY = "outbox.events";
export const DROPPED_KEY = "outbox.dropped";
export const SHIP_KEY = "outbox.ship";
export const MAX_EVENTS = 5000;
export const BATCH_SIZE = 500;
export const MAX_BATCH_BYTES = 900 * 1024; // the service refuses more than 1 MiB
const BASE_DELAY_MS = 30_000;
const MAX_DELAY_MS = 15 * 60_000;

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

  /** The oldest events waiting, at most `limit` of them and `maxBytes` of JSON. */
  pending(limit = BATCH_SIZE, maxBytes = MAX_BATCH_BYTES) {
    return this.locked(async () => {
      const { events } = await this.read();
      const out = [];
      let bytes = 0;
      for (const event of events.slice(0, limit)) {
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

  /** Set aside events the service refused for good (counted as dropped). */
  reject(ids) {
    const gone = new Set(ids);
    return this.locked(async () => {
      const { events, dropped } = await this.read();
      const kept = events.filter((e) => !gone.has(e.id));
      await this.storage.set({ [EVENTS_KEY]: kept, [DROPPED_KEY]: dropped + events.length - kept.length });
    });
  }

  /** The sensor_status of docs/sensor-api.md. */
  status() {
    return this.locked(async () => {
      const { events, dropped } = await this.read();
      let oldest = null;
      for (const e of events) if (oldest === null || e.time < oldest) oldest = e.time;
      return { outbox_pending: events.length, outbox_dropped: dropped, oldest_pending: oldest };
    });
  }
}

/**
 * Send one batch to POST {serviceUrl}/api/v1/events. Returns {sent, more}; throws on a failure
 * worth retrying later (network, 5xx, 401/403 until the school fixes the token).
 */
export async function shipOnce(outbox, { serviceUrl, token, fetch, batchSize = BATCH_SIZE }) {
  const batch = await outbox.pending(batchSize);
  if (!batch.length) return { sent: 0, more: false, batchSize };
  const status = await outbox.status();
  const response = await fetch(`${serviceUrl.replace(/\/+$/, "")}/api/v1/events`, {
    method: "POST",
    headers: { "Content-Type": "application/json", Authorization: `Bearer ${token}` },
    body: JSON.stringify({ events: batch, sensor_status: status }),
  });
  let body = {};
  try {
    body = await response.json();
  } catch {
    body = {};
  }
  if (response.status === 200 || response.status === 201 || response.status === 202) {
    await outbox.remove(batch.map((e) => e.id));
    return { sent: batch.length, more: batch.length === batchSize, batchSize };
  }
  if (response.status === 413 && batchSize > 1) {
    return { sent: 0, more: true, batchSize: Math.max(1, Math.floor(batchSize / 2)) };
  }
  if (response.status === 400 && body && Array.isArray(body.problems)) {
    // Nothing of the batch was stored: set aside the events named, resend the rest.
    const bad = body.problems
      .map((p) => p && p.index)
      .filter((i) => Number.isInteger(i) && i >= 0 && i < batch.length)
      .map((i) => batch[i].id);
    if (bad.length) {
      await outbox.reject(bad);
      return { sent: 0, more: true, batchSize, rejected: bad.length };
    }
  }
  throw new Error(`POST /api/v1/events answered ${response.status}: ${JSON.stringify(body).slice(0, 200)}`);
}

/**
 * Ship what is pending unless an earlier failure asked to wait (exponential backoff with full
 * jitter, state kept in `storage` so it survives the worker sleeping). Returns the ship state.
 */
export async function shipPending(outbox, storage, { serviceUrl, token, fetch, now, random = Math.random }) {
  const state = (await storage.get([SHIP_KEY]))[SHIP_KEY] ?? { failures: 0, next_at: 0 };
  if (!serviceUrl || !token) return { ...state, skipped: "not configured" };
  if (now() < state.next_at) return { ...state, skipped: "backing off" };
  let batchSize = BATCH_SIZE;
  let sent = 0;
  try {
    for (let round = 0; round < 20; round++) {
      const result = await shipOnce(outbox, { serviceUrl, token, fetch, batchSize });
      sent += result.sent;
      batchSize = result.batchSize;
      if (!result.more) break;
    }
    const next = { failures: 0, next_at: 0, last_success: new Date(now()).toISOString(), last_error: null, sent };
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

/** Try again at once (new settings, a browser start): keep the failure count, drop the wait. */
export async function resetBackoff(storage) {
  const state = (await storage.get([SHIP_KEY]))[SHIP_KEY];
  if (state && state.next_at) await storage.set({ [SHIP_KEY]: { ...state, next_at: 0 } });
}
