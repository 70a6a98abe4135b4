// The act rules (js/act-rules.js): which acts a page's scripts send MV3 can hold, the
// declarativeNetRequest rules derived from the bundle, and the held-act flow of the worker
// (js/held-acts.js) against a stand-in for the browser API.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { actDecision, actRules, catalogueActs, heldByRules } from "../js/act-rules.js";
import { Allowances } from "../js/allowances.js";
import { endpointUrlRegex } from "../js/dnr-regex.js";
import { EVENTS_KEY } from "../js/outbox.js";
import { Policy } from "../js/policy/engine.js";
import { decide } from "../js/policy/decide.js";
import { Facts } from "../js/policy/facts.js";
import { ACTS_KEY } from "../js/session-rules.js";
import { createWorker } from "../js/worker.js";
import { FileStorage, fakeExt } from "./helpers.js";

const BUNDLE = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
const POLICY = new Policy(BUNDLE);
const WORKING = Date.parse("2026-11-25T10:00:00Z"); // a Wednesday in the autumn term
const XHR = { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" };
const SCHOOL = { domain: ".facebook.com", name: "c_user", value: "100000000000777" };
const WITH_SCHOOL_ACCOUNT = {
  ...BUNDLE,
  accounts: [
    {
      id: "wycliffe-facebook-page",
      platform: "facebook",
      account_id: "100000000000777",
      label: "Wycliffe",
      approved_on: "2020-01-01",
      expires_on: null,
      actions: ["browse", "post", "message"],
    },
  ],
};

/** The RE2 regexFilter read as a JS RegExp (what we emit is in the subset both share). */
const asJs = (regex) => new RegExp(regex);

test("an endpoint's path and query become one URL regex that matches as the core's patterns do", () => {
  const status = asJs(endpointUrlRegex({ path: "^/api/v1/statuses(/\\w+/(favourite|reblog))?/?$" }));
  assert.ok(status.test("https://mastodon.social/api/v1/statuses"));
  assert.ok(status.test("https://mastodon.social/api/v1/statuses/?x=1"));
  assert.ok(status.test("https://mastodon.social/api/v1/statuses/123/reblog"));
  assert.ok(!status.test("https://mastodon.social/api/v1/statuses/123/context"));
  assert.ok(!status.test("https://mastodon.social/x/api/v1/statuses"));
  const open = asJs(endpointUrlRegex({ path: "^/(comment/frame/\\d+|comment\\.g)" }));
  assert.ok(open.test("https://www.blogger.com/comment/frame/12?po=1"));
  assert.ok(!open.test("https://www.blogger.com/commentXg"));
  const query = asJs(endpointUrlRegex({ path: "^/w/index\\.php$", query: "(^|&)action=submit(&|$)" }));
  assert.ok(query.test("https://en.wikipedia.org/w/index.php?title=X&action=submit"));
  assert.ok(query.test("https://en.wikipedia.org/w/index.php?action=submit"));
  assert.ok(!query.test("https://en.wikipedia.org/w/index.php?title=X&action=submitted"));
  assert.ok(!query.test("https://en.wikipedia.org/w/index.php/x?action=submit"));
  const loose = asJs(endpointUrlRegex({ path: "^/voyager/api/x/?$", query: "action=createMessage" }));
  assert.ok(loose.test("https://www.linkedin.com/voyager/api/x?a=1&action=createMessage"));
  const host = asJs(endpointUrlRegex({ path: "^/v1/message/send/?$", hosts: ["im-api.tiktok.com"] }));
  assert.ok(host.test("https://im-api.tiktok.com/v1/message/send"));
  assert.ok(!host.test("https://www.tiktok.com/v1/message/send"));
  // `.` and negated classes never run from the path into the query.
  const dot = asJs(endpointUrlRegex({ path: "^/a.b$" }));
  assert.ok(!dot.test("https://x.example/a?b"));
  const notDigit = asJs(endpointUrlRegex({ path: "^/a\\Db$" }));
  assert.ok(notDigit.test("https://x.example/axb") && !notDigit.test("https://x.example/a?b"));
  const notSlash = asJs(endpointUrlRegex({ path: "^/u/[^/]+/x$" }));
  assert.ok(notSlash.test("https://x.example/u/me/x") && !notSlash.test("https://x.example/u/m?/x"));
  assert.equal(endpointUrlRegex({ path: "^/(?=x)y" }), null); // lookahead: RE2 has none
  assert.equal(endpointUrlRegex({ path: "^/(a)\\1" }), null); // a backreference: RE2 has none
  assert.equal(endpointUrlRegex({ path: "^/a$|^/b$" }), null); // a $ that isn't the end
});

test("body-dependent endpoints can't be held; every other endpoint of the catalogue can", () => {
  const acts = catalogueActs(POLICY);
  assert.ok(acts.length > 50);
  for (const a of acts) {
    const endpoint = BUNDLE.platforms.find((p) => p.id === a.platform).endpoints[a.index];
    assert.equal(a.holdable, endpoint.body === null || endpoint.body === undefined, `${a.platform} #${a.index}`);
    if (a.holdable) assert.doesNotThrow(() => asJs(a.regex), `${a.platform} #${a.index}`);
  }
});

test("the act decision for an endpoint is decide()'s for a request it recognises", () => {
  const cases = [
    ["https://www.facebook.com/messaging/send/", "POST", "message"],
    ["https://www.facebook.com/ajax/updatestatus.php", "POST", "post"],
    ["https://www.linkedin.com/voyager/api/growth/normInvitations", "POST", "connect"],
    ["https://x.com/i/api/1.1/dm/new2.json", "POST", "message"],
  ];
  for (const at of [WORKING, Date.parse("2026-11-25T19:00:00Z"), Date.parse("2026-11-28T12:00:00Z")]) {
    for (const [url, method, action] of cases) {
      const decided = decide(Facts.fromUrl(url, { method, headers: XHR, at }), POLICY);
      assert.equal(decided.action, action);
      const derived = actDecision(POLICY, decided.platform, action, at);
      assert.deepEqual(
        [derived.outcome, derived.rule, derived.allow_continue, derived.clauses],
        [decided.outcome, decided.rule, decided.allow_continue, decided.clauses],
        `${url} at ${new Date(at).toISOString()}`,
      );
    }
  }
});

async function rulesAt(at, { policy = POLICY, jars = new Map(), allowances = new Allowances(new FileStorage()) } = {}) {
  return actRules({ policy, at, jars, allowances });
}

const ruleOf = (rules, platform, url, method = "POST", type = "xmlhttprequest") =>
  rules.find(
    (r) =>
      r.platform === platform &&
      r.condition.requestMethods.includes(method.toLowerCase()) &&
      r.condition.resourceTypes.includes(type) &&
      asJs(r.condition.regexFilter).test(url),
  );

test("warned acts get block rules on the platform's hosts for their methods; reads never", async () => {
  const rules = await rulesAt(WORKING);
  const send = ruleOf(rules, "facebook", "https://www.facebook.com/messaging/send/");
  assert.ok(send);
  assert.deepEqual(send.action, { type: "block" });
  assert.ok(send.condition.requestDomains.includes("facebook.com"));
  assert.equal(send.condition.isUrlFilterCaseSensitive, true);
  assert.deepEqual(send.condition.resourceTypes, ["xmlhttprequest", "ping", "other", "sub_frame"]);
  // The same post sent as a page (a form) is held too; a GET navigation is the warning page's.
  assert.ok(ruleOf(rules, "facebook", "https://www.facebook.com/messaging/send/", "POST", "main_frame"));
  assert.equal(ruleOf(rules, "facebook", "https://www.facebook.com/ajax/add_friend/action", "GET", "main_frame"), undefined);
  // Reading is never blocked: no rule covers a GET of the feed, nor the GraphQL endpoint (body).
  for (const r of rules) assert.ok(!asJs(r.condition.regexFilter).test("https://www.facebook.com/api/graphql/") || !r.condition.requestMethods.includes("post"));
  assert.equal(ruleOf(rules, "facebook", "https://www.facebook.com/", "GET"), undefined);
  // Ids after the redirect rules', each unique.
  assert.equal(new Set(rules.map((r) => r.id)).size, rules.length);
  assert.ok(rules.every((r) => r.id >= 10_000 && r.priority === 2));
});

test("acts opened by Continue on a held act, a school account or a time the rules don't warn removes the act's rule", async () => {
  const allowances = new Allowances(new FileStorage());
  const until = WORKING / 1000 + 60;
  // Continue on a held message opens messages only: the friend request and post rules stay.
  await allowances.grant("facebook", { pages_allowed_until: until, acts_allowed_until: until, act: "message" });
  const messages = await rulesAt(WORKING, { allowances });
  assert.equal(ruleOf(messages, "facebook", "https://www.facebook.com/messaging/send/"), undefined);
  assert.ok(ruleOf(messages, "facebook", "https://www.facebook.com/ajax/add_friend/action"));
  assert.ok(ruleOf(messages, "facebook", "https://www.facebook.com/ajax/updatestatus.php"));
  for (const act of ["post", "connect", "reference"]) {
    await allowances.grant("facebook", { pages_allowed_until: until, acts_allowed_until: until, act });
  }
  const allowed = await rulesAt(WORKING, { allowances });
  // (reference is blocked: Continue never opens it, whatever is kept)
  assert.deepEqual(
    allowed.filter((r) => r.platform === "facebook").map((r) => POLICY.platforms.get("facebook").endpoints[r.index].action).filter((a) => a !== "reference"),
    [],
  );
  assert.ok(allowed.some((r) => r.platform === "linkedin"));
  // Continue on a page's warning opens the platform's pages, never its acts: the rules stay.
  const pagesOnly = new Allowances(new FileStorage());
  await pagesOnly.grant("facebook", { pages_allowed_until: until });
  const pages = await rulesAt(WORKING, { allowances: pagesOnly });
  assert.ok(ruleOf(pages, "facebook", "https://www.facebook.com/messaging/send/"));
  assert.deepEqual(
    pages.filter((r) => r.platform === "facebook"),
    (await rulesAt(WORKING)).filter((r) => r.platform === "facebook"),
  );
  // The school account may post: its posts pass; its friend requests (not approved) are held.
  const school = new Policy(WITH_SCHOOL_ACCOUNT);
  const jars = new Map([["facebook", { c_user: SCHOOL.value }]]);
  const withAccount = await rulesAt(WORKING, { policy: school, jars });
  assert.equal(ruleOf(withAccount, "facebook", "https://www.facebook.com/ajax/updatestatus.php"), undefined);
  assert.ok(ruleOf(withAccount, "facebook", "https://www.facebook.com/ajax/add_friend/action"));
  // Outside working time a post from a personal account is only recorded: not held.
  const evening = await rulesAt(Date.parse("2026-11-25T19:00:00Z"));
  const post = decide(
    Facts.fromUrl("https://www.facebook.com/ajax/updatestatus.php", { method: "POST", headers: XHR, at: Date.parse("2026-11-25T19:00:00Z") }),
    POLICY,
  );
  if (post.outcome === "log" || post.outcome === "allow") {
    assert.equal(ruleOf(evening, "facebook", "https://www.facebook.com/ajax/updatestatus.php"), undefined);
  }
});

test("a held request is recognised with the core's own patterns", async () => {
  const rules = await rulesAt(WORKING);
  const held = rules.map(({ platform, index, navigation }) => ({ platform, index, navigation }));
  const facts = (url, method = "POST") => {
    const f = Facts.fromUrl(url, { method, at: WORKING });
    return { host: f.host, path: f.path, query: f.query, method };
  };
  const fb = facts("https://www.facebook.com/messaging/send/");
  assert.ok(heldByRules(POLICY, held, { platform: "facebook", ...fb, type: "xmlhttprequest" }));
  assert.ok(heldByRules(POLICY, held, { platform: "facebook", ...fb, type: "main_frame" }));
  assert.ok(!heldByRules(POLICY, held, { platform: "facebook", ...fb, type: "image" }));
  const graphql = facts("https://www.facebook.com/api/graphql/");
  assert.ok(!heldByRules(POLICY, held, { platform: "facebook", ...graphql, type: "xmlhttprequest" }));
  assert.ok(!heldByRules(POLICY, [], { platform: "facebook", ...fb, type: "xmlhttprequest" }));
});

// The worker: a request blocked by an act rule is recorded as held, the page gets its notice.
function worker({ at = WORKING, cookies = [] } = {}) {
  const ext = fakeExt({ cookies });
  const w = createWorker(ext, { clock: () => at, builtIn: async () => BUNDLE });
  return { ext, w };
}
const events = async (ext) => (await ext.local.get([EVENTS_KEY]))[EVENTS_KEY] ?? [];
const NOTICE = (tab = 7, url = "https://www.facebook.com/") => ({ frameId: 0, tab: { id: tab }, url, id: "clausewarden" });
const SEND = {
  requestId: "41",
  tabId: 7,
  frameId: 0,
  type: "xmlhttprequest",
  method: "POST",
  url: "https://www.facebook.com/messaging/send/",
  initiator: "https://www.facebook.com",
  requestBody: { formData: { body: ["hello"] } },
};

test("a held act is recorded once, as held, and its notice gets the clause and a ticket once", async () => {
  const { ext, w } = worker();
  await w.refreshRules();
  assert.ok((await ext.session.get([ACTS_KEY]))[ACTS_KEY].some((h) => h.platform === "facebook"));
  await w.dispatch("request", SEND);
  assert.deepEqual(await events(ext), []); // left to onErrorOccurred
  await w.dispatch("requestError", { ...SEND, error: "net::ERR_BLOCKED_BY_CLIENT" });
  const [event] = await events(ext);
  assert.equal(event.action, "message");
  assert.equal(event.held, true);
  assert.equal(event.response, "none");
  assert.deepEqual(ext.injected, [7]);
  assert.equal(ext.notifications[0].title, "Your message on Facebook was not sent");
  // Not from a frame, not from an extension page, not from another tab.
  assert.ok((await w.answer({ what: "held" }, { ...NOTICE(), frameId: 2 })).error);
  assert.ok((await w.answer({ what: "held" }, { ...NOTICE(), url: "chrome-extension://clausewarden/warning.html" })).error);
  assert.equal((await w.answer({ what: "held" }, NOTICE(8))).none, true);
  const state = await w.answer({ what: "held" }, NOTICE());
  assert.match(state.ticket, /^[0-9a-f]{32}$/);
  assert.equal(state.heading, "Your message on Facebook was not sent");
  assert.deepEqual(state.clauses.map((c) => c.id).slice(0, 1), ["8.1"]);
  assert.equal(state.allow_continue, true);
  assert.equal((await w.answer({ what: "held" }, NOTICE())).none, true); // once
  // A reason for page views only, or one made up: refused.
  assert.ok((await w.answer({ what: "held-continue", ticket: state.ticket, reason: "made-up" }, NOTICE())).error);
  assert.ok((await w.answer({ what: "held-continue", ticket: state.ticket, reason: "teaching-resource" }, NOTICE())).error);
  // Continue with a reason that can send a message: the allowance, no act rule for facebook's
  // messages (its friend requests still held), the event says why.
  const done = await w.answer({ what: "held-continue", ticket: state.ticket, reason: "other-school-business" }, NOTICE());
  assert.equal(done.continued, true);
  const held = (await ext.session.get([ACTS_KEY]))[ACTS_KEY].filter((h) => h.platform === "facebook");
  const actions = new Set(held.map((h) => POLICY.platforms.get("facebook").endpoints[h.index].action));
  assert.ok(!actions.has("message") && actions.has("connect"));
  const continued = (await events(ext)).find((e) => e.response === "continued");
  assert.deepEqual([continued.reason_category, continued.held], ["other-school-business", true]);
  // The page sends again: nothing blocks it, and nothing more is recorded (no warning was shown:
  // the `continued` event stands for it, as in the proxy).
  const recorded = (await events(ext)).length;
  await w.dispatch("request", { ...SEND, requestId: "42" });
  assert.equal((await events(ext)).length, recorded);
});

test("the 8.1 reason on a held message opens Tell the Headteacher and the message stays held", async () => {
  const { ext, w } = worker();
  await w.refreshRules();
  await w.dispatch("requestError", { ...SEND, error: "net::ERR_BLOCKED_BY_CLIENT" });
  const state = await w.answer({ what: "held" }, NOTICE());
  assert.deepEqual(state.tell_reasons.map((r) => r.id), ["report-contact", "safeguarding"]);
  assert.ok(!state.reasons.some((r) => r.id === "report-contact" || r.id === "teaching-resource"));
  assert.match(state.not_recorded, /privacy notice/);
  const told = await w.answer({ what: "held-continue", ticket: state.ticket, reason: "report-contact" }, NOTICE());
  assert.deepEqual(told, { told: true });
  assert.deepEqual(ext.opened, ["chrome-extension://clausewarden/tell.html?platform=facebook&kind=contact"]);
  // Nothing opened: the message is still held, and the answer is recorded as went_back, no reason.
  const held = (await ext.session.get([ACTS_KEY]))[ACTS_KEY].filter((h) => h.platform === "facebook");
  assert.ok(held.some((h) => POLICY.platforms.get("facebook").endpoints[h.index].action === "message"));
  const recorded = await events(ext);
  assert.deepEqual(recorded.map((e) => [e.response, e.held, e.reason_category ?? null]), [["none", true, null], ["went_back", true, null]]);
  // The ticket is used up: the same notice cannot continue afterwards.
  assert.ok((await w.answer({ what: "held-continue", ticket: state.ticket, reason: "other-school-business" }, NOTICE())).error);
});

test("go back from the notice is recorded; a request blocked by something else is not ours", async () => {
  const { ext, w } = worker();
  await w.refreshRules();
  await w.dispatch("requestError", { ...SEND, error: "net::ERR_BLOCKED_BY_CLIENT" });
  const { ticket } = await w.answer({ what: "held" }, NOTICE());
  await w.answer({ what: "held-back", ticket }, NOTICE());
  const back = (await events(ext)).find((e) => e.response === "went_back");
  assert.equal(back.held, true);
  const before = (await events(ext)).length;
  // A read blocked by another extension (an ad blocker): no event, no notice.
  await w.dispatch("requestError", { ...SEND, requestId: "9", method: "GET", url: "https://www.facebook.com/", error: "net::ERR_BLOCKED_BY_CLIENT" });
  await w.dispatch("requestError", { ...SEND, requestId: "10", error: "net::ERR_CONNECTION_RESET" });
  assert.equal((await events(ext)).length, before);
  assert.deepEqual(ext.injected, [7]);
});

test("a form posted as a page is held and the tab shown the warning page for the post", async () => {
  const { ext, w } = worker();
  await w.refreshRules();
  const form = { ...SEND, type: "main_frame", error: "net::ERR_BLOCKED_BY_CLIENT" };
  await w.dispatch("requestError", form);
  assert.deepEqual(ext.tabs.at(-1), [7, `chrome-extension://clausewarden/warning.html#${SEND.url}`]);
  const state = await w.answer(
    { what: "warning", url: SEND.url },
    { frameId: 0, tab: { id: 7 }, url: `chrome-extension://clausewarden/warning.html#${SEND.url}` },
  );
  assert.equal(state.heading, "Your message on Facebook was not sent");
  assert.equal(state.held, true);
  assert.ok(state.next_step);
  // The safeguarding reason (8.4) is a route to the Headteacher: the page goes to the Tell form,
  // nothing opens, and the answer is recorded as going back.
  const warningPage = { frameId: 0, tab: { id: 7 }, url: `chrome-extension://clausewarden/warning.html#${SEND.url}` };
  const told = await w.answer({ what: "continue", ticket: state.ticket, reason: "safeguarding" }, warningPage);
  assert.deepEqual(told, { tell: "chrome-extension://clausewarden/tell.html?platform=facebook&kind=safeguarding" });
  assert.deepEqual((await events(ext)).map((e) => [e.response, e.held]), [["none", true], ["went_back", true]]);
  assert.ok((await ext.session.get([ACTS_KEY]))[ACTS_KEY].some((h) => h.platform === "facebook"));
});

test("continue on a page's warning opens the platform's pages, never its acts: a message is still held", async () => {
  const { ext, w } = worker();
  const facebook = "https://www.facebook.com/";
  const page = { frameId: 0, tab: { id: 7 }, url: `chrome-extension://clausewarden/warning.html#${facebook}` };
  await w.dispatch("navigation", { frameId: 0, tabId: 7, url: facebook });
  const { ticket } = await w.answer({ what: "warning", url: facebook }, page);
  assert.deepEqual(await w.answer({ what: "continue", ticket, reason: "teaching-resource" }, page), { url: facebook });
  // Its pages open (no redirect rule), its acts stay held (their rules stay).
  assert.ok(!ext.sessionRules.some((r) => r.action.type === "redirect" && r.condition.requestDomains.includes("facebook.com")));
  assert.ok((await ext.session.get([ACTS_KEY]))[ACTS_KEY].some((h) => h.platform === "facebook"));
  await w.dispatch("request", SEND);
  await w.dispatch("requestError", { ...SEND, error: "net::ERR_BLOCKED_BY_CLIENT" });
  const last = (await events(ext)).at(-1);
  assert.deepEqual([last.action, last.held, last.response], ["message", true, "none"]);
  assert.deepEqual(ext.injected, [7]);
  assert.match((await w.answer({ what: "held" }, NOTICE())).ticket, /^[0-9a-f]{32}$/);
});

test("a message another site's script forged is held and recorded, but no notice tells staff they sent it", async () => {
  const { ext, w } = worker();
  await w.refreshRules();
  const forged = { ...SEND, initiator: "https://attacker.example" };
  await w.dispatch("request", forged);
  await w.dispatch("requestError", { ...forged, error: "net::ERR_BLOCKED_BY_CLIENT" });
  const [event] = await events(ext);
  assert.deepEqual([event.action, event.held], ["message", true]);
  assert.deepEqual(ext.injected, []);
  assert.deepEqual(ext.notifications, []);
  assert.equal((await w.answer({ what: "held" }, NOTICE())).none, true);
});
