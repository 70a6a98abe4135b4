// What the worker does with a request (js/policy/respond.js) against the shared cases that pytest
// runs against policy/respond.py (tests/vectors/responses.json): the twins agree on every one.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Policy } from "../js/policy/engine.js";
import { Decision, Facts } from "../js/policy/facts.js";
import {
  FATES,
  HELD_NOTICE_SECONDS,
  NOTICES,
  PAGES,
  TICKET_SECONDS,
  allowanceSeconds,
  answerBack,
  answerContinue,
  decideRequest,
  respond,
} from "../js/policy/respond.js";

const VECTORS = JSON.parse(readFileSync(new URL("../../tests/vectors/responses.json", import.meta.url), "utf-8"));
const BUNDLE = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));

/** A Decision with the vector's fields; the others are ones respond never reads. */
const decisionOf = (fields) =>
  new Decision({
    category: "social_network",
    working_time: true,
    device_group: "staff",
    account: "unknown",
    reason: "vector",
    rule: "vector",
    ...fields,
  });

test("the timings are the ones both twins use", () => {
  assert.deepEqual(VECTORS.timings, { ticket_seconds: TICKET_SECONDS, held_notice_seconds: HELD_NOTICE_SECONDS });
  assert.deepEqual([TICKET_SECONDS, HELD_NOTICE_SECONDS], [1800, 300]);
  assert.equal(allowanceSeconds(VECTORS.bundle.settings), 20 * 60);
});

test("the response is what every shared vector says", () => {
  assert.ok(VECTORS.cases.length >= 40);
  for (const c of VECTORS.cases) {
    const response = respond(decisionOf(c.decision), c.request, c.device, c.now);
    assert.deepEqual(JSON.parse(JSON.stringify(response)), c.response, c.name);
  }
});

test("continue and go back answer as every shared vector says", () => {
  assert.ok(VECTORS.answers.length >= 8);
  for (const c of VECTORS.answers) {
    const decision = decisionOf(c.decision);
    const answer =
      c.answer === "continue" ? answerContinue(VECTORS.bundle, decision, c.reason, { held: c.held, now: c.now }) : answerBack(decision);
    assert.deepEqual(JSON.parse(JSON.stringify(answer)), c.expected, c.name);
  }
});

test("the vectors cover every kind of response", () => {
  const responses = VECTORS.cases.map((c) => c.response);
  assert.deepEqual(new Set(responses.map((r) => r.request)), new Set(FATES));
  assert.deepEqual(new Set(responses.map((r) => r.page)), new Set(PAGES));
  assert.deepEqual(new Set(responses.map((r) => r.notice)), new Set(NOTICES));
  const answers = VECTORS.answers.map((a) => a.expected);
  assert.deepEqual(new Set(answers.map((a) => a.act)), new Set([null, "message"]));
  assert.ok(["contact", "other"].every((kind) => answers.some((a) => a.tell === kind)));
});

test("a prefetch is decided as the page it fetches, and its request says so", () => {
  const policy = new Policy(BUNDLE);
  const at = Date.parse("2026-11-25T10:00:00Z");
  const headers = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document", "sec-purpose": "prefetch", "sec-fetch-site": "none" };
  const [decision, request] = decideRequest(Facts.fromUrl("https://www.facebook.com/", { headers, at }), policy);
  assert.equal(decision.outcome, "warn");
  assert.deepEqual(request, { navigation: true, method: "GET", sec_fetch_site: "none", prefetch: true });
  assert.equal(respond(decision, request, {}, at / 1000).request, "decline_prefetch");
  const opened = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };
  const [, page] = decideRequest(Facts.fromUrl("https://www.facebook.com/", { headers: opened, at }), policy);
  assert.deepEqual(page, { navigation: true, method: "GET", sec_fetch_site: null, prefetch: false });
});
