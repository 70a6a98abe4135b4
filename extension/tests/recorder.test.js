// The extension's recorder (js/recorder.js) with its real outbox, settings and policy cache over
// file-backed storage: the device pseudonym of each event across the school's local midnight.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Outbox, EVENTS_KEY } from "../js/outbox.js";
import { PolicyCache } from "../js/policy-cache.js";
import { pseudonym } from "../js/policy/event.js";
import { Recorder } from "../js/recorder.js";
import { INSTALL_KEY, SALT_KEY } from "../js/sensor-event.js";
import { Settings } from "../js/settings.js";
import { FileStorage } from "./helpers.js";

const BUNDLE = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
const DECISION = {
  platform: "facebook", category: "social_network", action: "browse", working_time: false,
  device_group: "staff-devices", account: "unknown", outcome: "warn", clauses: ["7"], reason: "…",
  rule: "social-working-time", record: true, allow_continue: true, school_account: null,
};

function recorder(bundle, clock) {
  const local = new FileStorage();
  const settings = new Settings(async () => ({}), local, clock);
  const policies = new PolicyCache(local, async () => bundle);
  const outbox = new Outbox(local);
  const fetch = async () => ({ status: 503, json: async () => ({}) });
  return { local, r: new Recorder({ outbox, local, settings, policies, fetch, clock }) };
}

test("one device pseudonym per school day, a new one exactly at local midnight, never the bundle's salt", async () => {
  // A bundle from an older service still carrying a salt: the extension uses its own.
  const withSalt = { ...BUNDLE, privacy: { level: "daily", salt: "ab".repeat(32), salt_date: "2026-11-25" } };
  let now = Date.parse("2026-11-25T23:59:59Z"); // London is UTC in November
  const { local, r } = recorder(withSalt, () => now);
  for (const at of ["2026-11-25T23:59:00Z", "2026-11-25T23:59:59.999Z", "2026-11-26T00:00:00Z", "2026-11-26T00:00:30Z"]) {
    await r.record(DECISION, Date.parse(at));
  }
  const events = (await local.get([EVENTS_KEY]))[EVENTS_KEY];
  const devices = events.map((e) => e.device);
  assert.equal(devices.length, 4);
  assert.equal(devices[0], devices[1]);
  assert.equal(devices[2], devices[3]);
  assert.notEqual(devices[1], devices[2]);
  const id = (await local.get([INSTALL_KEY]))[INSTALL_KEY];
  assert.notEqual(devices[0], await pseudonym(Buffer.from("ab".repeat(32), "hex"), id));
  // An event of the day before, recorded after midnight, gets no device: not a second pseudonym.
  await r.record(DECISION, Date.parse("2026-11-25T23:59:59Z"));
  assert.equal((await local.get([EVENTS_KEY]))[EVENTS_KEY].at(-1).device, null);
});

test("the worker's minute alarm destroys a past day's salt once the school's day is over", async () => {
  let now = Date.parse("2026-11-25T22:00:00Z");
  const { local, r } = recorder(BUNDLE, () => now);
  await r.record(DECISION, now);
  const salt = (await local.get([SALT_KEY]))[SALT_KEY].salt;
  await r.ship(); // still the same day: kept
  assert.equal((await local.get([SALT_KEY]))[SALT_KEY].salt, salt);
  now = Date.parse("2026-11-26T00:00:10Z");
  await r.ship();
  assert.ok(!JSON.stringify(await local.get(null)).includes(salt));
});
