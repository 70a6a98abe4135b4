// Parts of a platform opened without a warning (config.Area: short links, its CDN, LinkedIn
// Learning, sign-in dialogs) never reach the warning page through the redirect rules: the warning
// page would let them through with a pass for the whole platform, and a short link (t.co,
// lnkd.in) could carry that pass to the platform itself. Checked against the declarativeNetRequest
// rules as the browser applies them (the highest priority matching rule; `allow` wins a tie).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { Allowances } from "../js/allowances.js";
import { redirectRules } from "../js/navigation-rules.js";
import { decide } from "../js/policy/decide.js";
import { Policy } from "../js/policy/engine.js";
import { SessionRules } from "../js/session-rules.js";
import { FileStorage, fakeExt } from "./helpers.js";

const BUNDLE = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
const POLICY = new Policy(BUNDLE);
const WORKING = Date.parse("2026-11-25T10:00:00Z");
const PAGE = "chrome-extension://clausewarden/warning.html";
const NAV = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };

const onDomain = (host, domains) => domains.some((d) => host === d || host.endsWith(`.${d}`));

/** What the browser does with a top-level navigation to `url` under `rules`. */
function applied(rules, url) {
  const host = new URL(url).hostname;
  const hits = rules.filter(
    (r) =>
      r.condition.resourceTypes.includes("main_frame") &&
      onDomain(host, r.condition.requestDomains) &&
      !onDomain(host, r.condition.excludedRequestDomains ?? []) &&
      new RegExp(r.condition.regexFilter).test(url),
  );
  hits.sort((a, b) => b.priority - a.priority || (a.action.type === "allow" ? -1 : 1));
  return hits.length ? hits[0].action.type : "none";
}

async function rulesNow() {
  const allowances = new Allowances(new FileStorage());
  return redirectRules({ policy: POLICY, at: WORKING, jars: new Map(), allowances, warningPage: PAGE });
}

test("short links, the CDN, LinkedIn Learning and sign-in dialogs never reach the warning page", async () => {
  const rules = await rulesNow();
  for (const url of [
    "https://t.co/AbCdEf123",
    "https://lnkd.in/eXyZ12",
    "https://fb.me/abcdef",
    "https://pbs.twimg.com/media/G.jpg",
    "https://scontent-lhr8-1.xx.fbcdn.net/v/t39/1_n.jpg",
    "https://media.licdn.com/dms/image/x",
    "https://www.linkedin.com/learning/excel-essential-training",
    "https://www.linkedin.com/learning/",
    "https://www.linkedin.com/oauth/v2/authorization?response_type=code&client_id=1",
    "https://www.facebook.com/v19.0/dialog/oauth?client_id=1&redirect_uri=x",
    "https://www.facebook.com/login.php?skip_api_login=1&api_key=1",
    "https://wycliffe.workplace.com/groups/1",
    "https://x.com/i/oauth2/authorize?response_type=code&client_id=1",
  ]) {
    const decision = decide({ url, headers: NAV, at: WORKING }, POLICY);
    assert.equal(decision.outcome, "allow", url);
    assert.notEqual(applied(rules, url), "redirect", url);
  }
});

test("the platforms themselves are still sent to the warning page", async () => {
  const rules = await rulesNow();
  for (const url of [
    "https://x.com/home",
    "https://www.linkedin.com/feed/",
    "https://www.linkedin.com/learningfoo",
    "https://www.facebook.com/",
    "https://www.facebook.com/login.php",
    "https://www.facebook.com/dialog/oauthx",
  ]) {
    assert.equal(decide({ url, headers: NAV, at: WORKING }, POLICY).outcome, "warn", url);
    assert.equal(applied(rules, url), "redirect", url);
  }
});

test("the allow rules are installed with the redirects, each regex checked by the browser first", async () => {
  const ext = fakeExt();
  const checked = [];
  ext.regexSupported = async (regex) => {
    checked.push(regex);
    return true;
  };
  const rules = new SessionRules(ext, rulesNow);
  await rules.refresh();
  const passes = ext.sessionRules.filter((r) => r.action.type === "allow");
  assert.ok(passes.length >= 3);
  assert.ok(passes.every((r) => checked.includes(r.condition.regexFilter) && r.priority > 1));
  assert.equal(new Set(ext.sessionRules.map((r) => r.id)).size, ext.sessionRules.length);
  assert.ok(!(await rules.platforms()).includes(undefined));
});
