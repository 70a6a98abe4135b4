// The JS twin against the shared vectors (tests/vectors/decisions.json) and its own edge cases.
// Run: cd extension && node --test tests/

import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { decide, isTopLevelNavigation } from "../js/policy/decide.js";
import { BundleError, Policy } from "../js/policy/engine.js";
import { Facts } from "../js/policy/facts.js";
import { unquote } from "../js/policy/py-url.js";

const root = new URL("../../", import.meta.url);
const BUNDLE = JSON.parse(readFileSync(new URL("extension/default-bundle.json", root), "utf-8"));
const VECTORS = JSON.parse(readFileSync(new URL("tests/vectors/decisions.json", root), "utf-8"));
const policy = new Policy({
  ...BUNDLE,
  accounts: VECTORS.accounts,
  device_groups: [...VECTORS.device_groups, ...BUNDLE.device_groups],
});
const plain = new Policy(BUNDLE);

const NAV = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };
const WORKING = "2026-11-25T10:00:00+00:00"; // a Wednesday in the autumn term
const EVENING = "2026-11-25T19:00:00+00:00";

test("every shared decision vector gives the expected fields", () => {
  assert.ok(VECTORS.cases.length >= 150);
  for (const c of VECTORS.cases) {
    const got = decide(c.facts, policy).contract();
    const wanted = Object.fromEntries(Object.keys(c.expect).map((k) => [k, got[k]]));
    assert.deepEqual(wanted, c.expect, c.name);
  }
});

test("personal facebook navigation in working time is warned with a reason sentence", () => {
  const d = decide({ url: "https://www.facebook.com/", headers: NAV, at: WORKING }, plain);
  assert.equal(d.outcome, "warn");
  assert.deepEqual(d.clauses, ["7"]);
  assert.equal(d.allow_continue, true);
  assert.equal(
    d.reason,
    "Opening Facebook (a social network) during working time gets a warning (rule social-working-time).",
  );
});

test("the same navigation in the evening is warned too: clause 7 covers school devices at any time", () => {
  const d = decide({ url: "https://www.facebook.com/", headers: NAV, at: EVENING }, plain);
  assert.equal(d.outcome, "warn");
  assert.equal(d.working_time, false);
  assert.match(d.reason, /outside working time .*clause 7 covers the school's computers and networks at any time/);
});

test("an embedded widget never gets a warning", () => {
  const headers = { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "script" };
  const d = decide({ url: "https://connect.facebook.net/en_GB/sdk.js", headers, at: WORKING }, plain);
  assert.equal(d.action, "subresource");
  assert.equal(d.outcome, "allow");
});

test("look-alike hosts are not the platform", () => {
  for (const host of ["notfacebook.com", "facebook.com.example.org", "www.facebook.co"]) {
    const d = decide({ host, headers: NAV, at: WORKING }, plain);
    assert.equal(d.platform, null, host);
    assert.equal(d.rule, "not-social-media");
  }
});

test("exact hosts, most specific domains and brand TLDs classify", () => {
  assert.equal(plain.classifier.platformFor("fbcdn-a.akamaihd.net"), "facebook");
  assert.equal(plain.classifier.platformFor("other.akamaihd.net"), null);
  assert.equal(plain.classifier.platformFor("WWW.Facebook.COM."), "facebook");
  assert.equal(plain.classifier.platformFor("anything.youtube"), "youtube");
  assert.equal(plain.classifier.platformFor("10.0.0.1"), null);
});

test("a client outside every device group is outside the policy", () => {
  const d = decide({ url: "https://www.facebook.com/", headers: NAV, at: WORKING, client: "8.8.8.8" }, plain);
  assert.equal(d.device_group, null);
  assert.equal(d.rule, "outside-device-groups");
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: WORKING, client: "::ffff:10.1.2.3" }, plain).device_group, "staff-devices");
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: WORKING, client: "fd00::1%eth0" }, plain).device_group, "staff-devices");
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: WORKING, client: "010.0.0.1" }, plain).device_group, null);
});

test("a school account cookie is recognised only while the approval is active", () => {
  const page = { c_user: "100000000000777", i_user: "100000000000001" };
  const facts = { url: "https://www.facebook.com/", headers: NAV, cookies: page, at: WORKING };
  const d = decide(facts, policy);
  assert.equal(d.account, "school");
  assert.equal(d.school_account, "wycliffe-facebook-page");
  assert.equal(decide({ ...facts, at: "2026-08-31T10:00:00+01:00" }, policy).account, "personal");
  assert.equal(decide({ ...facts, cookies: { ...page, i_user: "100000000000001%0A" } }, policy).account, "school");
  // A Page has no login of its own: its id in c_user is a person's profile, not the Page.
  assert.equal(decide({ ...facts, cookies: { c_user: "100000000000001" } }, policy).account, "personal");
  assert.deepEqual(policy.accountIdentity(policy.platforms.get("facebook"), page), ["page", "100000000000001"]);
});

test("posting is recognised from the body; a body longer than the peek is the act it may be", () => {
  const facts = {
    url: "https://www.facebook.com/api/graphql/",
    method: "POST",
    headers: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
    body: "fb_api_req_friendly_name=ComposerStoryCreateMutation",
    at: WORKING,
  };
  assert.equal(decide(facts, plain).action, "post");
  // Issue 16 §3: the name beyond the look is not read, so the request is held as the first act
  // its endpoint may be (acts fail closed), no longer passed as a subresource.
  const far = { ...facts, body: `${"é".repeat(40000)}ComposerStoryCreateMutation` };
  assert.equal(decide(far, plain).action, "connect");
  assert.equal(decide({ ...far, body: "fb_api_req_friendly_name=CometNotificationsQuery" }, plain).action, "subresource");
  assert.equal(decide({ ...facts, body: new TextEncoder().encode(facts.body) }, plain).action, "post");
});

test("times without a UTC offset are refused", () => {
  assert.throws(() => decide({ url: "https://x.com/", headers: NAV, at: "2026-11-25T10:00:00" }, plain));
});

test("working time follows the school's clock across the change to summer time", () => {
  // 2026-04-13 is the first Monday of the summer term, in British Summer Time (UTC+1).
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: "2026-04-13T07:30:00Z" }, plain).working_time, true);
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: "2026-04-13T06:59:59Z" }, plain).working_time, false);
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: "2026-11-27T16:29:59Z" }, plain).working_time, true);
  assert.equal(decide({ url: "https://x.com/", headers: NAV, at: "2026-11-27T16:30:00Z" }, plain).working_time, false);
});

test("a bundle with a missing section is refused with BundleError", () => {
  const { schedule, ...broken } = BUNDLE;
  assert.ok(schedule);
  assert.throws(() => new Policy(broken), BundleError);
});

test("navigation is judged by Sec-Fetch headers, or Accept without them", () => {
  assert.equal(isTopLevelNavigation("GET", { "sec-fetch-mode": "navigate" }), true);
  assert.equal(isTopLevelNavigation("GET", { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" }), false);
  assert.equal(isTopLevelNavigation("GET", { accept: "text/html,*/*" }), true);
  assert.equal(isTopLevelNavigation("PUT", { accept: "text/html" }), false);
});

test("urls split as Python's urlsplit does", () => {
  const splitUrl = (url) => {
    const { host, path, query } = Facts.fromUrl(url, { at: 0 });
    return { host, path, query };
  };
  assert.deepEqual(splitUrl("https://user@WWW.Facebook.com:443/a/b?x=1#f"), { host: "www.facebook.com", path: "/a/b", query: "x=1" });
  assert.deepEqual(splitUrl("http://[::1]:8080"), { host: "::1", path: "/", query: "" });
});

test("unquote keeps invalid escapes and replaces invalid UTF-8", () => {
  assert.equal(unquote("u%3D12%zz%4"), "u=12%zz%4");
  assert.equal(unquote("%C3%A9t%C3"), "ét\ufffd");
  assert.equal(unquote("é%41"), "éA");
});
