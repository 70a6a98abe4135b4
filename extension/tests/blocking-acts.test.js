// js/blocking-acts.js: the blocking listener's answer, at once, from the Policy and the acts held.
// Run: cd extension && node --test tests/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { BlockingActs } from "../js/blocking-acts.js";
import { Policy } from "../js/policy/engine.js";

const root = new URL("../../", import.meta.url);
const policy = new Policy(JSON.parse(readFileSync(new URL("extension/default-bundle.json", root), "utf-8")));
const ENCODER = new TextEncoder();

function request(path, body, { method = "POST", type = "xmlhttprequest", requestId = "1" } = {}) {
  return {
    requestId,
    url: `https://www.facebook.com${path}`,
    method,
    type,
    initiator: "https://www.facebook.com",
    requestBody: body === null ? undefined : { raw: [{ bytes: ENCODER.encode(body).buffer }] },
  };
}

const FRIEND = "av=1&fb_api_req_friendly_name=Friending%43ometFriendRequestSendMutation";
const POST = "av=1&fb_api_req_friendly_name=ComposerStoryCreateMutation";

test("a held act named in the body is cancelled; the body is kept for that request, once", () => {
  const blocking = new BlockingActs(() => Date.parse("2026-11-25T10:00:00Z"));
  blocking.update(policy, [["facebook", "connect"]]);
  assert.deepEqual(blocking.check(request("/api/graphql/", FRIEND)), { cancel: true });
  assert.equal(blocking.cancelled("1"), true);
  const seen = blocking.take("1");
  assert.equal(new TextDecoder().decode(seen.body), FRIEND);
  assert.equal(blocking.take("1"), null);
});

test("an act not held now, a read, a page load and a cold worker pass", () => {
  const blocking = new BlockingActs();
  assert.equal(blocking.check(request("/api/graphql/", FRIEND)), undefined); // no policy yet
  blocking.update(policy, [["facebook", "connect"]]);
  assert.equal(blocking.check(request("/api/graphql/", POST)), undefined);
  assert.equal(blocking.check(request("/api/graphql/", "fb_api_req_friendly_name=CometNotificationsQuery")), undefined);
  assert.equal(blocking.check(request("/ajax//add_friend/action", "x=1", { type: "main_frame" })), undefined);
  assert.deepEqual(blocking.check(request("/ajax//add_friend/action", "x=1", { method: "PUT" })), { cancel: true });
});
