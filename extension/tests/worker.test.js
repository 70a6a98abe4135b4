// The service worker's modules wired together (js/worker.js), against a stand-in for the browser
// API: redirect rules, the navigation fallback, the warning flow, the request observer, events.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { EVENTS_KEY } from "../js/outbox.js";
import { CLOCK_KEY, OVERRIDE_KEY, readSettings } from "../js/settings.js";
import { createWorker } from "../js/worker.js";
import { fakeExt } from "./helpers.js";

const BUNDLE = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
const WORKING = Date.parse("2026-11-25T10:00:00Z"); // a Wednesday in the autumn term
const EVENING = Date.parse("2026-11-25T19:00:00Z");
const FACEBOOK = "https://www.facebook.com/";
const WARNING_PAGE = "chrome-extension://clausewarden/warning.html";

function worker({ at = WORKING, cookies = [], fetch } = {}) {
  const ext = fakeExt({ cookies });
  const w = createWorker(ext, { clock: () => at, builtIn: async () => BUNDLE, fetch });
  return { ext, w };
}

const events = async (ext) => (await ext.local.get([EVENTS_KEY]))[EVENTS_KEY] ?? [];

/** What runtime.onMessage gives as the sender of the warning page in tab `tab`'s top frame. */
const PAGE = (tab = 7, url = FACEBOOK) => ({ frameId: 0, tab: { id: tab }, url: `${WARNING_PAGE}#${url}` });

/** Tab `tab` navigates to `url`; the warning page it is sent to asks for its content. */
async function warned(w, url = FACEBOOK, tab = 7) {
  await w.dispatch("navigation", { frameId: 0, tabId: tab, url });
  return w.answer({ what: "warning", url }, PAGE(tab, url));
}
const ruleFor = (ext, domain) =>
  ext.sessionRules.find((r) => r.action.type === "redirect" && r.condition.requestDomains.includes(domain));

test("a platform warned in working time gets a redirect rule to the warning page, and in the evening too (clause 7)", async () => {
  const day = worker();
  await day.w.refreshRules();
  const rule = ruleFor(day.ext, "facebook.com");
  assert.ok(rule);
  assert.equal(rule.action.redirect.regexSubstitution, `${WARNING_PAGE}#\\0`);
  assert.deepEqual(rule.condition.resourceTypes, ["main_frame"]);
  assert.equal(ruleFor(day.ext, "wikipedia.org"), undefined); // reading content is allowed
  // Clause 7 covers the school's devices at any time: the evening is warned too (issue 11 §2).
  const evening = worker({ at: EVENING });
  await evening.w.refreshRules();
  assert.ok(ruleFor(evening.ext, "facebook.com"));
});

test("a navigation the rules did not catch sends the tab to the warning page", async () => {
  const { ext, w } = worker();
  await w.dispatch("committed", { frameId: 0, tabId: 7, url: FACEBOOK });
  assert.deepEqual(ext.tabs, [[7, `${WARNING_PAGE}#${FACEBOOK}`]]);
  await w.dispatch("committed", { frameId: 3, tabId: 7, url: FACEBOOK }); // a frame, not the page
  await w.dispatch("committed", { frameId: 0, tabId: 8, url: "https://www.bbc.co.uk/" });
  assert.equal(ext.tabs.length, 1);
});

test("the warning page gets the clause and a ticket, and the warning is recorded", async () => {
  const { ext, w } = worker();
  const state = await warned(w);
  assert.match(state.ticket, /^[0-9a-f]{32}$/);
  assert.equal(state.platform_name, "Facebook");
  assert.equal(state.blocked, false);
  assert.equal(state.allow_continue, true);
  assert.deepEqual(
    state.clauses.map((c) => c.id),
    ["7"],
  );
  assert.equal(state.account_seen, false);
  const [event] = await events(ext);
  assert.equal(event.platform, "facebook");
  assert.equal(event.outcome, "warn");
  assert.equal(event.response, "none");
  assert.equal(event.time, "2026-11-25T10:00:00Z");
});

test("continue needs an offered reason, then grants an allowance and records the reason", async () => {
  const { ext, w } = worker();
  const { ticket } = await warned(w);
  assert.ok((await w.answer({ what: "continue", ticket, reason: "made-up" }, PAGE())).error);
  assert.ok((await w.answer({ what: "continue", ticket, reason: "teaching-resource" }, PAGE(8))).error); // another tab
  assert.deepEqual(await w.answer({ what: "continue", ticket, reason: "teaching-resource" }, PAGE()), { url: FACEBOOK });
  assert.equal(ruleFor(ext, "facebook.com"), undefined); // the allowance runs
  const continued = (await events(ext)).at(-1);
  assert.equal(continued.response, "continued");
  assert.equal(continued.reason_category, "teaching-resource");
  // The ticket is spent, and the page now passes straight through.
  assert.ok((await w.answer({ what: "continue", ticket, reason: "teaching-resource" }, PAGE())).error);
  assert.equal((await w.answer({ what: "warning", url: FACEBOOK }, PAGE())).proceed, true);
  // No warned URL is left in session storage once the warning is answered.
  assert.equal(JSON.stringify(ext.session.read()).includes("facebook.com"), false);
});

test("go back is recorded as heeding the warning", async () => {
  const { ext, w } = worker();
  const { ticket } = await warned(w);
  assert.deepEqual(await w.answer({ what: "back", ticket }, PAGE()), {});
  assert.equal((await events(ext)).at(-1).response, "went_back");
  assert.equal(JSON.stringify(ext.session.read()).includes("facebook.com"), false);
});

test("a page with nothing to warn about proceeds", async () => {
  const { w } = worker({ at: EVENING });
  const learning = "https://www.linkedin.com/learning/"; // staff training: no warning at any time
  const state = await w.answer({ what: "warning", url: learning }, PAGE(7, learning));
  assert.equal(state.proceed, true);
  assert.equal(state.school, BUNDLE.school.name);
});

test("registering an account sends the signed-in account id to the service, and only then", async () => {
  const sent = [];
  const fetch = async (url, init) => {
    sent.push([url, JSON.parse(init.body)]);
    return { status: 202 };
  };
  const cookies = [{ domain: ".facebook.com", name: "c_user", value: "100000000000001" }];
  const { ext, w } = worker({ cookies, fetch });
  const state = await warned(w);
  assert.equal(state.account_seen, true);
  assert.equal((await events(ext))[0].account, "personal"); // the id itself never in the event
  assert.equal(JSON.stringify(await events(ext)).includes("100000000000001"), false);
  const notConnected = await w.answer({ what: "register", ticket: state.ticket, label: "  Class   page " }, PAGE());
  assert.equal(notConnected.heading, "Not sent");
  await ext.local.set({ [OVERRIDE_KEY]: { service_url: "http://127.0.0.1:9/", sensor_token: "t" } });
  w.ctx.settings.forget();
  const answer = await w.answer({ what: "register", ticket: state.ticket, label: "  Class   page " }, PAGE());
  assert.equal(answer.sent, true);
  assert.deepEqual(sent, [
    [
      "http://127.0.0.1:9/api/v1/account-requests",
      { platform: "facebook", account_id: "100000000000001", label: "Class page", kind: "profile" },
    ],
  ]);
});

test("a post sent by a page's script is decided from its body and recorded", async () => {
  const { ext, w } = worker();
  const body = new TextEncoder().encode("fb_api_req_friendly_name=ComposerStoryCreateMutation");
  await w.dispatch("request", {
    type: "xmlhttprequest",
    method: "POST",
    url: "https://www.facebook.com/api/graphql/",
    requestBody: { raw: [{ bytes: body.buffer }] },
  });
  await w.dispatch("request", { type: "xmlhttprequest", method: "POST", url: "https://www.bbc.co.uk/api" });
  const [event] = await events(ext);
  assert.equal(event.action, "post");
  assert.equal(event.outcome, "warn");
  assert.equal((await events(ext)).length, 1);
});

test("the warning page is recorded once, by the worker, and only its own tab's top frame gets a ticket", async () => {
  const { ext, w } = worker();
  // Loaded without the worker sending a navigation there (another site opened it, a reload):
  // nothing recorded, no ticket.
  const unasked = await w.answer({ what: "warning", url: FACEBOOK }, PAGE());
  assert.equal(unasked.expired, true);
  assert.equal(unasked.ticket, undefined);
  assert.equal((await events(ext)).length, 0);
  // Framed (not the top frame), or not the warning page: refused.
  await w.dispatch("navigation", { frameId: 0, tabId: 7, url: FACEBOOK });
  assert.equal((await events(ext)).length, 1); // recorded as the tab is sent to the warning page
  for (const sender of [{ ...PAGE(), frameId: 2 }, { ...PAGE(), url: "chrome-extension://clausewarden/options.html" }, undefined]) {
    assert.ok((await w.answer({ what: "warning", url: FACEBOOK }, sender)).error);
  }
  // The same navigation seen again as it commits is still one warning.
  await w.dispatch("committed", { frameId: 0, tabId: 7, url: FACEBOOK });
  const state = await w.answer({ what: "warning", url: FACEBOOK }, PAGE());
  assert.match(state.ticket, /^[0-9a-f]{32}$/);
  // The nonce is spent: the page loaded again in that tab gets nothing, and nothing more is recorded.
  assert.equal((await w.answer({ what: "warning", url: FACEBOOK }, PAGE())).expired, true);
  assert.equal((await events(ext)).length, 1);
});

test("a page may ask only what pages ask", async () => {
  const { w } = worker();
  assert.deepEqual(await w.answer({ what: "startup" }), { error: "unknown request" });
  assert.deepEqual(await w.answer({ what: "toString" }), { error: "unknown request" });
  assert.deepEqual(await w.answer(null), { error: "unknown request" });
  const state = await w.answer({ what: "state" });
  assert.equal(state.bundle_source, "built-in");
  assert.equal(state.settings_source, "not configured");
  assert.equal(state.privacy_level, "daily");
});

test("managed storage wins; the test override and clock apply only while it is empty", async () => {
  const local = fakeExt().local;
  await local.set({ [OVERRIDE_KEY]: { sensor_name: "test-laptop" }, [CLOCK_KEY]: 5000 });
  const overridden = await readSettings(async () => ({}), local);
  assert.equal(overridden.sensorName, "test-laptop");
  assert.equal(overridden.clockOffset, 5000);
  const managed = await readSettings(async () => ({ sensor_name: "laptops", service_url: 5 }), local);
  assert.equal(managed.sensorName, "laptops");
  assert.equal(managed.serviceUrl, "");
  assert.equal(managed.clockOffset, 0);
  assert.equal(managed.source, "managed storage");
});
