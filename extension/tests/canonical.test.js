// The JS twin against the canonical vectors (tests/vectors/canonical.json, issue 16 §3), which
// tests/test_canonical_vectors.py runs against policy/canonical.py and policy.decide().
// Run: cd extension && node --test tests/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import * as canonical from "../js/policy/canonical.js";
import { decide } from "../js/policy/decide.js";
import { Policy } from "../js/policy/engine.js";

const root = new URL("../../", import.meta.url);
const BUNDLE = JSON.parse(readFileSync(new URL("extension/default-bundle.json", root), "utf-8"));
const VECTORS = JSON.parse(readFileSync(new URL("tests/vectors/canonical.json", root), "utf-8"));
const policy = new Policy(BUNDLE);

function factsOf(raw) {
  const body = raw.body_pad ? `pad=${"a".repeat(raw.body_pad)}&${raw.body}` : raw.body;
  return { ...raw, body };
}

test("every canonical path vector", () => {
  for (const [raw, wanted] of VECTORS.paths) assert.equal(canonical.path(raw), wanted, JSON.stringify(raw));
});

test("every canonical query vector", () => {
  for (const [raw, wanted] of VECTORS.queries) assert.equal(canonical.query(raw), wanted, JSON.stringify(raw));
});

test("every canonical decision vector gives the expected fields", () => {
  assert.ok(VECTORS.cases.length >= 40);
  for (const c of VECTORS.cases) {
    const got = decide(factsOf(c.facts), policy).contract();
    const wanted = Object.fromEntries(Object.keys(c.expect).map((k) => [k, got[k]]));
    assert.deepEqual(wanted, c.expect, c.name);
  }
});

test("a body's views open form fields, JSON escapes and JSON inside strings", () => {
  const views = canonical.bodyViews('v=%7B%22a%22%3A%22%5Cu0053%22%7D&w=x+y');
  assert.ok(views.includes('v={"a":"\\u0053"}&w=x y'));
  assert.ok(views.includes('{"a":"S"}'));
  // A quote or backslash written as \u stays escaped, so the JSON keeps its shape.
  assert.equal(canonical.jsonUnescape('"\\u0022\\u005c\\u0041\\/"'), '"\\"\\\\A/"');
});
