// Events and device pseudonyms: the same values policy/event.py gives, under each privacy level.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { coarsen, eventFromDecision, pseudonym } from "../js/policy/event.js";
import { devicePseudonym, forgetOldSalt, privacyLevel } from "../js/sensor-event.js";
import { FileStorage } from "./helpers.js";

const DECISION = {
  platform: "facebook",
  category: "social_network",
  action: "browse",
  working_time: true,
  device_group: "staff-devices",
  account: "unknown",
  outcome: "warn",
  clauses: ["7"],
  reason: "…",
  rule: "social-working-time",
  record: true,
  allow_continue: true,
  school_account: null,
};

test("event times are rounded down to the granularity in UTC", () => {
  assert.equal(coarsen(Date.parse("2026-11-25T10:14:59.900Z"), 15), "2026-11-25T10:00:00Z");
  assert.equal(coarsen(Date.parse("2026-11-25T10:15:00Z"), 15), "2026-11-25T10:15:00Z");
  assert.equal(coarsen(Date.parse("2026-11-25T10:59:00+01:00"), 60), "2026-11-25T09:00:00Z");
});

test("the pseudonym is the HMAC-SHA256 of the install id, 128 bits of hex", async () => {
  const key = new Uint8Array(32).fill(7);
  const expected = createHmac("sha256", Buffer.from(key)).update("install-1").digest("hex").slice(0, 32);
  assert.equal(await pseudonym(key, "install-1"), expected);
});

test("an event carries only the contract's fields, never a URL or an account id", () => {
  const e = eventFromDecision(DECISION, {
    eventId: "a".repeat(32),
    at: Date.parse("2026-11-25T10:07:00Z"),
    sensor: "laptop",
    device: null,
    policyVersion: "v1",
    granularityMinutes: 15,
    response: "went_back",
    reasonCategory: "teaching-resource",
  });
  assert.deepEqual(Object.keys(e).sort(), [
    "account", "action", "category", "clauses", "device", "device_group", "held", "id", "may_apply", "outcome", "platform",
    "policy_version", "reason_category", "response", "rule", "school_account", "sensor", "time", "working_time",
  ]);
  assert.equal(e.reason_category, null); // only with "continued"
  assert.equal(e.time, "2026-11-25T10:00:00Z");
});

test("privacy levels: none has no device, daily the extension's own salt of the day, stable its own key", async () => {
  const storage = new FileStorage();
  assert.equal(await devicePseudonym({ storage, level: "none", deviceId: "d", day: "2026-11-25" }), null);
  const today = await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-25" });
  const kept = (await storage.get(["privacy.daily_salt"]))["privacy.daily_salt"];
  assert.equal(kept.date, "2026-11-25");
  assert.equal(today, await pseudonym(Buffer.from(kept.salt, "hex"), "d"));
  assert.equal(await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-25" }), today);
  // The next day: a new salt replaces (so forgets) the day before's; the day before gets no device.
  const next = await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-26" });
  assert.notEqual(next, today);
  assert.equal(await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-25" }), null);
  assert.ok(!JSON.stringify(await storage.get(null)).includes(kept.salt));
  const a = await devicePseudonym({ storage, level: "stable", deviceId: "d", day: "2026-11-25" });
  const b = await devicePseudonym({ storage, level: "stable", deviceId: "d", day: "2026-12-25" });
  assert.equal(a, b);
  assert.match((await storage.get(["privacy.stable_key"]))["privacy.stable_key"], /^[0-9a-f]{64}$/);
});

test("a day's salt is destroyed at the school's midnight, and never made again for that day", async () => {
  const storage = new FileStorage();
  await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-25" });
  const kept = (await storage.get(["privacy.daily_salt"]))["privacy.daily_salt"];
  assert.equal(await forgetOldSalt(storage, "2026-11-25"), false);
  assert.equal(await forgetOldSalt(storage, "2026-11-26"), true);
  assert.ok(!JSON.stringify(await storage.get(null)).includes(kept.salt));
  assert.equal(await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-25" }), null);
  assert.ok(await devicePseudonym({ storage, level: "daily", deviceId: "d", day: "2026-11-26" }));
});

test("the stricter of the service's and the school's privacy level applies", () => {
  const bundle = (level) => ({ settings: { privacy_level: "daily" }, privacy: { level } });
  assert.equal(privacyLevel(bundle("stable"), null), "stable");
  assert.equal(privacyLevel(bundle("stable"), "daily"), "daily");
  assert.equal(privacyLevel(bundle("daily"), "none"), "none");
  assert.equal(privacyLevel(bundle("none"), "stable"), "none");
});
