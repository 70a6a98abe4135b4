// The warning page's content and Continue / Go back rules (js/policy/warning.js) against the
// shared cases that pytest runs against policy/warning.py (tests/vectors/warning.json).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { actHeld, continueAccepted, goingBackRecorded, SEEN, tellInstead, warningContent, whatStaffSee } from "../js/policy/warning.js";

const VECTORS = JSON.parse(readFileSync(new URL("../../tests/vectors/warning.json", import.meta.url), "utf-8"));

test("the warning page says what every shared vector says", () => {
  assert.ok(VECTORS.cases.length >= 10);
  for (const c of VECTORS.cases) {
    const content = warningContent(VECTORS.bundle, c.decision, {
      returnTo: c.sensor.return_to,
      accountSeen: c.sensor.account_seen,
      held: c.sensor.held,
    });
    assert.deepEqual(JSON.parse(JSON.stringify(content)), c.content, c.name);
  }
});

test("continue and go back follow every shared vector", () => {
  for (const c of VECTORS.cases) {
    for (const [reason, accepted] of Object.entries(c.continue_accepted)) {
      assert.equal(continueAccepted(VECTORS.bundle, c.decision, reason), accepted, `${c.name}: ${reason}`);
    }
    for (const [reason, kind] of Object.entries(c.tell_instead)) {
      assert.equal(tellInstead(VECTORS.bundle, c.decision, reason), kind, `${c.name}: ${reason}`);
    }
    assert.equal(goingBackRecorded(c.decision), c.go_back_recorded, c.name);
  }
});

test("what staff see through the proxy, and whether the act is held, follow every shared vector", () => {
  assert.deepEqual([...new Set(VECTORS.seen.map((c) => c.seen))].sort(), [...SEEN].sort());
  for (const c of VECTORS.seen) {
    assert.equal(whatStaffSee(c.decision, c.navigation), c.seen, c.name);
    assert.equal(actHeld(c.decision), c.held, c.name);
  }
});
