// The warning flow's one-time check (js/warning-flow.js), through the worker (js/worker.js)
// against a stand-in for the browser API: the warning is about the page, not its scheme.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { EVENTS_KEY } from "../js/outbox.js";
import { createWorker } from "../js/worker.js";
import { fakeExt } from "./helpers.js";

const BUNDLE = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
const WORKING = Date.parse("2026-11-25T10:00:00Z"); // a Wednesday in the autumn term
const WARNING_PAGE = "chrome-extension://clausewarden/warning.html";

const events = async (ext) => (await ext.local.get([EVENTS_KEY]))[EVENTS_KEY] ?? [];
const page = (url, tab = 7) => ({ frameId: 0, tab: { id: tab }, url: `${WARNING_PAGE}#${url}` });

test("a plain http:// link, opened by the browser as https://, shows the warning once with one event", async () => {
  const ext = fakeExt();
  const w = createWorker(ext, { clock: () => WORKING, builtIn: async () => BUNDLE });
  // The worker sees the link's address; the redirect rule then sends the upgraded one.
  await w.dispatch("navigation", { frameId: 0, tabId: 7, url: "http://www.facebook.com/" });
  await w.dispatch("committed", { frameId: 0, tabId: 7, url: "https://www.facebook.com/" });
  const state = await w.answer({ what: "warning", url: "https://www.facebook.com/" }, page("https://www.facebook.com/"));
  assert.equal(state.expired, undefined);
  assert.match(state.ticket, /^[0-9a-f]{32}$/);
  assert.equal((await events(ext)).length, 1);
  // Another page, or the same page seen in another tab, is not this warning.
  await w.dispatch("navigation", { frameId: 0, tabId: 8, url: "http://www.facebook.com/groups/" });
  const other = await w.answer({ what: "warning", url: "https://www.facebook.com/" }, page("https://www.facebook.com/", 8));
  assert.equal(other.expired, true);
});
