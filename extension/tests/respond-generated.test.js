// js/policy/respond.js retypes none of Python's data: its timings and value lists are the ones
// scripts/generate_js.py writes from policy/respond.py (js/policy/generated/respond-*.js).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as timings from "../js/policy/generated/respond-timings.js";
import * as vocabulary from "../js/policy/generated/respond-vocabulary.js";
import * as respond from "../js/policy/respond.js";

test("respond.js exports the generated timings and value lists, not copies of its own", () => {
  for (const [name, value] of Object.entries({ ...timings, ...vocabulary })) {
    assert.equal(respond[name], value, name); // the very same binding (a frozen list is one object)
  }
  assert.ok(Object.isFrozen(respond.FATES) && Object.isFrozen(respond.OWN_SITE));
  const source = readFileSync(new URL("../js/policy/respond.js", import.meta.url), "utf-8");
  for (const name of Object.keys({ ...timings, ...vocabulary })) {
    assert.doesNotMatch(source, new RegExp(`\\b(const|let|var)\\s+${name}\\b`), `respond.js defines ${name} itself`);
  }
});
