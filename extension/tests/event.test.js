// The event check (js/policy/event.js) against the shared cases that pytest runs against
// policy/event.py and the service's ingest (tests/vectors/events.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { EVENT_FIELDS, eventFromDecision, eventProblems, realTime, withAddedFields } from "../js/policy/event.js";

const VECTORS = JSON.parse(readFileSync(new URL("../../tests/vectors/events.json", import.meta.url), "utf-8"));

test("every valid vector passes the check and every invalid one names its field and reason", () => {
  assert.ok(VECTORS.cases.length >= 40);
  for (const c of VECTORS.cases) {
    // ingest_only cases are good events by the contract that only the service can refuse.
    const expected = c.valid || c.ingest_only ? [] : [[c.field, c.reason]];
    assert.deepEqual(eventProblems(c.event), expected, c.name);
  }
});

test("the vectors cover every field of the event", () => {
  const faulted = new Set(VECTORS.cases.filter((c) => !c.valid).map((c) => c.field));
  assert.deepEqual(
    EVENT_FIELDS.filter((f) => !faulted.has(f)),
    [],
  );
});

test("an event made from a decision passes the check", () => {
  const decision = {
    platform: "facebook",
    category: "social_network",
    action: "browse",
    working_time: true,
    device_group: "staff-devices",
    account: "unknown",
    outcome: "warn",
    clauses: ["7"],
    rule: "social-working-time",
    school_account: null,
  };
  const options = { eventId: "a".repeat(32), at: Date.parse("2026-11-25T10:07:00Z"), sensor: "laptops", device: null };
  const event = eventFromDecision(decision, { ...options, policyVersion: "v1", granularityMinutes: 15 });
  assert.deepEqual(eventProblems(event), []);
  const continued = eventFromDecision(decision, {
    ...options,
    policyVersion: "v1",
    granularityMinutes: 15,
    response: "continued",
    reasonCategory: "teaching-resource",
  });
  assert.deepEqual(eventProblems(continued), []);
});

test("a real time is a real date and time, in any year Python's datetime holds", () => {
  assert.equal(realTime("2024-02-29T23:59:59Z"), true);
  assert.equal(realTime("0050-01-01T00:00:00Z"), true);
  assert.equal(realTime("2026-02-29T00:00:00Z"), false);
  assert.equal(realTime("0000-01-01T00:00:00Z"), false);
  assert.equal(realTime("2026-11-25T24:00:00Z"), false);
  assert.equal(realTime("2024-02-29T23:59:60Z"), false);
});

test("an older sensor's event, without a field added since, is good and takes the added field's default", () => {
  for (const c of VECTORS.older_sensors) {
    assert.deepEqual(eventProblems(c.event), [], c.name);
    assert.equal(withAddedFields(c.event).held, c.stored_held, c.name);
    assert.deepEqual(withAddedFields(c.event).may_apply, c.stored_may_apply, c.name);
  }
});
