// The outbox and its shipper, against a file-backed storage and a real local HTTP server.
import assert from "node:assert/strict";
import { test } from "node:test";

import { DEFERRED_RETRY_MS, Outbox, resetBackoff, shipPending } from "../js/outbox.js";
import { FileStorage, serve } from "./helpers.js";

const event = (n, time = "2026-11-25T10:00:00Z") => ({ id: `${n}`.padStart(32, "0"), time, platform: "facebook" });

test("events survive a restart and are shipped once the service answers", async () => {
  const storage = new FileStorage();
  const first = new Outbox(storage);
  await Promise.all([1, 2, 3].map((n) => first.add(event(n))));
  const restarted = new Outbox(new FileStorage(storage.path));
  assert.deepEqual(await restarted.status(), { outbox_pending: 3, outbox_dropped: 0, oldest_pending: "2026-11-25T10:00:00Z" });

  const service = await serve(() => ({ status: 202, body: { stored: 3, duplicates: 0 } }));
  try {
    const now = () => Date.parse("2026-11-25T10:16:02.500Z");
    const state = await shipPending(restarted, storage, { serviceUrl: service.url, token: "t0k", fetch, now });
    assert.equal(state.failures, 0);
    // The batch, then (the outbox drained) its status alone, so the Sensors page shows it empty.
    assert.equal(service.requests.length, 2);
    const sent = JSON.parse(service.requests[0].body);
    assert.equal(sent.events.length, 3);
    assert.equal(sent.sensor_status.outbox_pending, 3);
    assert.equal(sent.sensor_status.sent_at, "2026-11-25T10:16:02Z");
    assert.equal(service.requests[0].headers.authorization, "Bearer t0k");
    assert.deepEqual(JSON.parse(service.requests[1].body), {
      events: [],
      sensor_status: { outbox_pending: 0, outbox_dropped: 0, oldest_pending: null, sent_at: "2026-11-25T10:16:02Z" },
    });
    assert.equal(service.requests[1].headers.authorization, "Bearer t0k");
    assert.equal((await restarted.status()).outbox_pending, 0);
    // Nothing changed since: nothing more is sent.
    await shipPending(restarted, storage, { serviceUrl: service.url, token: "t0k", fetch, now });
    assert.equal(service.requests.length, 2);
  } finally {
    await service.close();
  }
});

test("a full outbox keeps what it has and counts what it drops", async () => {
  const outbox = new Outbox(new FileStorage(), { max: 2 });
  assert.equal(await outbox.add(event(1)), true);
  assert.equal(await outbox.add(event(2)), true);
  assert.equal(await outbox.add(event(3)), false);
  assert.deepEqual(await outbox.status(), { outbox_pending: 2, outbox_dropped: 1, oldest_pending: "2026-11-25T10:00:00Z" });
});

test("a failing service means waiting with backoff, then shipping when it is back", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  await outbox.add(event(1));
  let up = false;
  const service = await serve(() => (up ? { status: 202, body: { stored: 1 } } : { status: 503, body: { error: "down" } }));
  let clock = 1_000_000;
  const options = { serviceUrl: service.url, token: "t", fetch, now: () => clock, random: () => 0.5 };
  try {
    const failed = await shipPending(outbox, storage, options);
    assert.equal(failed.failures, 1);
    assert.ok(failed.next_at > clock);
    assert.match(failed.last_error, /503/);
    up = true;
    const waiting = await shipPending(outbox, storage, options);
    assert.equal(waiting.skipped, "backing off");
    assert.equal(service.requests.length, 1);
    clock = failed.next_at;
    const shipped = await shipPending(outbox, storage, options);
    assert.equal(shipped.failures, 0);
    assert.equal((await outbox.status()).outbox_pending, 0);
  } finally {
    await service.close();
  }
});

test("an unreachable service keeps the events", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  await outbox.add(event(1));
  const service = await serve(() => ({ status: 202 }));
  await service.close();
  const state = await shipPending(outbox, storage, { serviceUrl: service.url, token: "t", fetch, now: Date.now });
  assert.equal(state.failures, 1);
  assert.equal((await outbox.status()).outbox_pending, 1);
});

test("events the service refuses by index are set aside and the rest are resent", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  for (const n of [1, 2, 3]) await outbox.add(event(n));
  const service = await serve((req, body) => {
    const ids = JSON.parse(body).events.map((e) => e.id);
    if (ids.includes(event(2).id)) return { status: 400, body: { error: "bad", problems: [{ index: 1, field: "action" }] } };
    return { status: 202, body: { stored: ids.length } };
  });
  try {
    const state = await shipPending(outbox, storage, { serviceUrl: service.url, token: "t", fetch, now: Date.now });
    assert.equal(state.failures, 0);
    assert.equal(service.requests.length, 3); // the refused batch, the rest, the drained status
    assert.deepEqual(JSON.parse(service.requests[1].body).events.map((e) => e.id), [event(1).id, event(3).id]);
    assert.deepEqual(JSON.parse(service.requests[2].body).events, []);
    assert.deepEqual(await outbox.status(), { outbox_pending: 0, outbox_dropped: 1, oldest_pending: null });
  } finally {
    await service.close();
  }
});

test("events the service defers (this clock ahead of its own) are kept and sent again later", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  for (const n of [1, 2, 3]) await outbox.add(event(n));
  let clockAhead = true;
  const service = await serve((req, body) => {
    const { events } = JSON.parse(body);
    if (!events.length) return { status: 202, body: { stored: 0, duplicates: 0 } };
    if (!clockAhead) return { status: 202, body: { stored: events.length, duplicates: 0 } };
    // The first and the last of the batch are a day ahead of the service's clock.
    return {
      status: 202,
      body: { stored: events.length - 2, duplicates: 0, deferred: [0, events.length - 1], service_time: "2026-11-23T10:16:00Z", clock_ahead_seconds: 172800 },
    };
  });
  let clock = Date.parse("2026-11-25T10:16:00Z");
  const options = { serviceUrl: service.url, token: "t", fetch, now: () => clock };
  try {
    const first = await shipPending(outbox, storage, options);
    assert.deepEqual([first.failures, first.sent, first.deferred], [0, 1, 2]);
    // Kept (and still counted as pending), not lost as if stored.
    assert.deepEqual((await outbox.pending()).map((e) => e.id), []);
    assert.equal((await outbox.status()).outbox_pending, 2);
    const told = JSON.parse(service.requests.at(-1).body);
    assert.deepEqual([told.events, told.sensor_status.outbox_pending], [[], 2]);
    // Not sent again before their wait is over...
    const asked = service.requests.length;
    clock += DEFERRED_RETRY_MS - 1;
    await shipPending(outbox, storage, options);
    assert.equal(service.requests.length, asked);
    // ...then sent again, and stored once the clocks agree.
    clockAhead = false;
    clock += 1;
    const again = await shipPending(outbox, storage, options);
    assert.equal(again.sent, 2);
    assert.deepEqual(JSON.parse(service.requests[asked].body).events.map((e) => e.id), [event(1).id, event(3).id]);
    assert.equal((await outbox.status()).outbox_pending, 0);
  } finally {
    await service.close();
  }
});

test("a browser start sends deferred events again at once", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  await outbox.add(event(1));
  await outbox.defer([event(1).id], 9e15);
  assert.deepEqual(await outbox.pending(), []);
  await resetBackoff(storage);
  assert.equal(await outbox.retryDeferred(Date.now()), 1);
  assert.deepEqual((await outbox.pending()).map((e) => e.id), [event(1).id]);
});

test("a batch too large for the service is halved", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  for (let n = 0; n < 10; n++) await outbox.add(event(n));
  const service = await serve((req, body) => (JSON.parse(body).events.length > 5 ? { status: 413 } : { status: 202 }));
  try {
    await shipPending(outbox, storage, { serviceUrl: service.url, token: "t", fetch, now: Date.now });
    assert.equal((await outbox.status()).outbox_pending, 0);
  } finally {
    await service.close();
  }
});

test("without a service configured nothing is sent and nothing is lost", async () => {
  const storage = new FileStorage();
  const outbox = new Outbox(storage);
  await outbox.add(event(1));
  const state = await shipPending(outbox, storage, { serviceUrl: "", token: "", fetch, now: Date.now });
  assert.equal(state.skipped, "not configured");
  assert.equal((await outbox.status()).outbox_pending, 1);
});

test("new settings or a browser start end the wait but keep the failure count", async () => {
  const storage = new FileStorage();
  await storage.set({ "outbox.ship": { failures: 3, next_at: 9e15 } });
  await resetBackoff(storage);
  assert.deepEqual((await storage.get(["outbox.ship"]))["outbox.ship"], { failures: 3, next_at: 0 });
});
