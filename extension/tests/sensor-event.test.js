// Events and device pseudonyms: the same values policy/event.py gives, under each privacy level.
import assert from "node:assert/strict";
import { createHmac } from "node:crypto";
import { test } from "node:test";

import { coarsen, eventFromDecision, pseudonym } from "../js/policy/event.js";
import { devicePseudonym, privacyLevel } from "../js/sensor-event.js";
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
    "account", "action", "category", "clauses", "device", "device_group", "id", "outcome", "platform",
    "policy_version", "reason_category", "response", "rule", "school_account", "sensor", "time", "working_time",
  ]);
  assert.equal(e.reason_category, null); // only with "continued"
  assert.equal(e.time, "2026-11-25T10:00:00Z");
});

test("privacy levels: none has no device, daily follows the day's salt, stable a long-lived key", async () => {
  const storage = new FileStorage();
  const bundle = { settings: { privacy_level: "daily" }, privacy: { level: "daily", salt: "11".repeat(32), salt_date: "2026-11-25" } };
  assert.equal(await devicePseudonym({ storage, bundle, level: "none", deviceId: "d", day: "2026-11-25" }), null);
  const today = await devicePseudonym({ storage, bundle, level: "daily", deviceId: "d", day: "2026-11-25" });
  assert.equal(today, await pseudonym(new Uint8Array(32).fill(0x11), "d"));
  // A day the service gave no salt for: a local salt, replaced (so forgotten) the next day.
  const other = await devicePseudonym({ storage, bundle, level: "daily", deviceId: "d", day: "2026-11-26" });
  const next = await devicePseudonym({ storage, bundle, level: "daily", deviceId: "d", day: "2026-11-27" });
  assert.notEqual(other, today);
  assert.notEqual(next, other);
  assert.equal((await storage.get(["privacy.daily_salt"]))["privacy.daily_salt"].date, "2026-11-27");
  const stable = { ...bundle, privacy: { level: "stable", key: "22".repeat(32) } };
  const a = await devicePseudonym({ storage, bundle: stable, level: "stable", deviceId: "d", day: "2026-11-25" });
  const b = await devicePseudonym({ storage, bundle: stable, level: "stable", deviceId: "d", day: "2026-12-25" });
  assert.equal(a, b);
});

test("the stricter of the service's and the school's privacy level applies", () => {
  const bundle = (level) => ({ settings: { privacy_level: "daily" }, privacy: { level } });
  assert.equal(privacyLevel(bundle("stable"), null), "stable");
  assert.equal(privacyLevel(bundle("stable"), "daily"), "daily");
  assert.equal(privacyLevel(bundle("daily"), "none"), "none");
  assert.equal(privacyLevel(bundle("none"), "stable"), "none");
});
