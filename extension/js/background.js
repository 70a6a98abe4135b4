// The service worker: listeners at top level (the worker wakes cold), each handing its event to
// one dispatch; the work is done in the modules js/worker.js wires together.

import { META_KEY } from "./bundle-source.js";
import * as ext from "./ext.js";
import { createWorker } from "./worker.js";

const worker = createWorker(ext);

function dispatch(name, payload) {
  worker.dispatch(name, payload).catch((err) => console.error(`ClauseWarden ${name}`, err));
}

ext.onBeforeNavigate((details) => dispatch("navigation", details));
ext.onCommitted((details) => dispatch("committed", details));
ext.onBeforeRequestBlocking((details) => worker.block(details));
ext.onBeforeRequest((details) => dispatch("request", details));
ext.onRequestError((details) => dispatch("requestError", details));
ext.onNotificationClicked((id) => {
  const tab = /^held-(\d+)$/.exec(id);
  if (tab) ext.focusTab(Number(tab[1])).catch(() => {});
});
ext.onMessage((request, sender) => worker.answer(request, sender));
ext.onAlarm((alarm) => dispatch("alarm", alarm));
ext.onCookieChanged((change) => dispatch("cookie", change));
ext.onStartup(() => dispatch("startup"));
ext.onLocalChanged(META_KEY, () => dispatch("bundleStored"));
ext.onManagedChanged(() => dispatch("settings"));
// The worker may have been asleep (session rules are lost when the browser closes): rules now.
dispatch("rules");

// For tests and the curious admin in the worker's console: recompute the redirect rules now.
globalThis.clausewarden = { refreshRules: () => worker.refreshRules(), ship: () => worker.ship() };
