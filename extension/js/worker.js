// The service worker's parts, wired together: `createWorker(ext)` gives the handlers that
// background.js's listeners dispatch to. All state lives in chrome.storage; what is kept in memory
// (settings, the Policy) is only a cache of it, since the worker wakes cold.
//
// `ext` is js/ext.js, or in Node's tests a stand-in with the same functions.

import { SYNC_KEY, refreshBundle } from "./bundle-source.js";
import { actRules, heldActs } from "./act-rules.js";
import { Allowances } from "./allowances.js";
import { BlockingActs } from "./blocking-acts.js";
import { HeldActs } from "./held-acts.js";
import { accountCookies, redirectRules } from "./navigation-rules.js";
import { onNavigate, onRequest } from "./navigation.js";
import { Outbox, SHIP_KEY, resetBackoff } from "./outbox.js";
import { PolicyCache } from "./policy-cache.js";
import { Recorder } from "./recorder.js";
import { privacyLevel } from "./sensor-event.js";
import { SessionRules } from "./session-rules.js";
import { Credential, indexedDbStore } from "./credential.js";
import { Settings } from "./settings.js";
import { connected, sendReport, tellForm, tellPath } from "./tell.js";
import { WarningFlow } from "./warning-flow.js";

const COOKIE_SETTLE_MS = 200;

export function createWorker(
  ext,
  { fetch = (url, init) => globalThis.fetch(url, init), clock = Date.now, builtIn, credentialStore } = {},
) {
  const store = credentialStore ?? (globalThis.indexedDB ? indexedDbStore() : null);
  const credential = store ? new Credential({ store, fetch, now: clock }) : null;
  if (credential) {
    // A 401 to this laptop's session token: forget it, so the next request signs for a new one.
    const plainFetch = fetch;
    fetch = async (url, init) => {
      const response = await plainFetch(url, init);
      const authorization = init?.headers?.Authorization;
      if (response.status === 401 && authorization) await credential.refused(authorization).catch(() => {});
      return response;
    };
  }
  const settings = new Settings(ext.managed, ext.local, clock, credential);
  const policies = new PolicyCache(
    ext.local,
    builtIn ?? (async () => (await fetch(ext.extensionUrl("default-bundle.json"))).json()),
  );
  const allowances = new Allowances(ext.session);
  const blocking = new BlockingActs(clock);
  const outbox = new Outbox(ext.local);
  const recorder = new Recorder({ outbox, local: ext.local, settings, policies, fetch, clock });
  const rules = new SessionRules(ext, async () => {
    const at = await settings.now();
    const { policy } = await policies.current();
    const jars = await accountCookies(policy, ext.cookiesNamed);
    blocking.update(policy, await heldActs({ policy, at, jars, allowances }));
    return [
      ...(await redirectRules({ policy, at, jars, allowances, warningPage: ext.extensionUrl("warning.html") })),
      ...(await actRules({ policy, at, jars, allowances })),
    ];
  });
  const ctx = { ext, fetch, settings, policies, allowances, outbox, recorder, rules, blocking };
  const flow = new WarningFlow(ctx);
  ctx.warnings = flow;
  const held = new HeldActs(ctx);
  ctx.held = held;
  // Each tab's navigation being decided: the warning page's first message waits for it, so the
  // nonce the worker keeps for that tab is there before the page asks for it.
  const deciding = new Map();
  function navigating(details, committed) {
    const run = onNavigate(ctx, details, committed);
    if (details.frameId === 0) {
      const done = run.catch(() => {}).finally(() => {
        if (deciding.get(details.tabId) === done) deciding.delete(details.tabId);
      });
      deciding.set(details.tabId, done);
    }
    return run;
  }

  async function syncBundle() {
    const config = await settings.get();
    const result = await refreshBundle(ext.local, {
      serviceUrl: config.serviceUrl,
      token: config.token,
      fetch,
      now: () => clock() + config.clockOffset,
    });
    if (result.status === "updated") policies.markStale();
    return result;
  }

  async function wake() {
    await Promise.all([ext.ensureAlarm("minute", 1), ext.ensureAlarm("bundle", 30)]);
    await rules.refresh();
    await syncBundle();
    await rules.refresh();
    await recorder.ship();
  }

  /** For the options page: what is in force, and how the outbox and sync are doing. */
  async function state() {
    const { policy, bundle, source } = await policies.current();
    const config = await settings.get();
    const stored = await ext.local.get([SYNC_KEY, SHIP_KEY]);
    let service = null;
    try {
      service = config.serviceUrl ? new URL(config.serviceUrl).origin : null;
    } catch {
      service = "(not a valid URL)";
    }
    return {
      extension_version: ext.manifestVersion(),
      bundle_version: policy.version,
      policy_version: policy.policyVersion,
      bundle_source: source,
      school: policy.schoolName,
      settings_source: config.source,
      service,
      sensor: config.sensorName,
      enrolment: config.enrolment ?? null,
      privacy_level: privacyLevel(bundle, config.privacyLevel),
      sync: stored[SYNC_KEY] ?? null,
      ship: stored[SHIP_KEY] ?? null,
      outbox: await outbox.status(),
    };
  }

  let cookieTimer = null;
  /** An account cookie changed: recompute the rules once the changes settle. */
  async function cookieChanged(change) {
    // A worker woken by this very change has no Policy in memory yet: load it (else the change
    // would wait for the minute alarm).
    const loaded = policies.loaded ?? (await policies.current().catch(() => null));
    if (!loaded) return;
    const watched = [...loaded.policy.platforms.values()].some((p) =>
      p.accountCookies.some(([name]) => name === change.cookie.name),
    );
    if (!watched || cookieTimer !== null) return;
    cookieTimer = setTimeout(() => {
      cookieTimer = null;
      rules.refresh().catch((err) => console.error("ClauseWarden rules", err));
    }, COOKIE_SETTLE_MS);
  }

  // What the extension's own pages may ask (chrome.runtime messages, by `what`). The warning
  // page's messages count only from the warning page in a tab's top frame (never framed).
  const warningPage = {
    warning: async (request, tabId) => {
      await deciding.get(tabId);
      return flow.open(request, tabId);
    },
    continue: (request, tabId) => flow.continueTo(request, tabId),
    back: (request, tabId) => flow.goBack(request, tabId),
    register: (request, tabId) => flow.register(request, tabId),
  };
  // The in-page notice of a held act (js/act-notice.js, a content script): only from the top
  // frame of a web page's tab; web pages themselves can't message the extension at all (no
  // externally_connectable), and only the notice holds the ticket.
  const notice = {
    held: (request, tabId) => held.open(tabId),
    "held-continue": (request, tabId) => held.continueTo(request, tabId),
    "held-back": (request, tabId) => held.goBack(request, tabId),
    "open-tell": (request) => openTell(request.platform),
  };
  // "Tell the Headteacher" (tell.html, in a tab of its own): the form's content, and the report
  // relayed to the service at once (js/tell.js).
  const tellPage = {
    "tell-form": () => tellForm(ctx),
    tell: (request) => sendReport(ctx, request),
  };

  /**
   * Open the form in a tab of its own, for `platform` (a catalogue id) and about `kind` when
   * given. Asked for by the notice's own link only where a service can receive it; a reason that
   * tells the Headteacher instead of sending a held act opens it all the same (`always`): the
   * form then says how else to tell them.
   */
  async function openTell(platform, kind = null, { always = false } = {}) {
    const { policy } = await policies.current();
    if (!always && !connected(await settings.get())) return { error: "not connected to a service" };
    await ext.openTab(ext.extensionUrl(tellPath([...policy.platforms.keys()], platform, kind)));
    return {};
  }
  ctx.openTell = openTell;
  const messages = {
    state: () => state(),
  };

  // What the browser tells the worker (one listener each in background.js).
  const events = {
    navigation: (details) => navigating(details, false),
    committed: (details) => navigating(details, true),
    request: (details) => onRequest(ctx, details),
    requestError: (details) => held.onError(details),
    alarm: (alarm) => (alarm.name === "bundle" ? syncBundle().then(() => rules.refresh()) : Promise.all([rules.refresh(), recorder.ship()])),
    cookie: cookieChanged,
    startup: () => resetBackoff(ext.local).then(wake),
    bundleStored: async () => policies.markStale(),
    settings: () => {
      settings.forget();
      return resetBackoff(ext.local).then(wake);
    },
    rules: () => rules.refresh(),
  };

  /** One dispatch for everything: a browser event by name, or a page's message. */
  function dispatch(name, payload) {
    try {
      return Promise.resolve(events[name](payload)); // at once: handlers read state before any await
    } catch (err) {
      return Promise.reject(err);
    }
  }

  /** The tab of a message sent by the warning page in a tab's top frame, else null. */
  function warningTab(sender) {
    if (!sender || sender.frameId !== 0 || !sender.tab || typeof sender.tab.id !== "number") return null;
    try {
      const url = new URL(sender.url);
      const ours = new URL(ext.extensionUrl("warning.html"));
      if (url.protocol !== ours.protocol || url.pathname !== ours.pathname) return null;
    } catch {
      return null;
    }
    return sender.tab.id;
  }

  /** A message from tell.html in a tab's top frame (never framed). */
  function fromTellPage(sender) {
    if (!sender || sender.frameId !== 0 || !sender.tab || typeof sender.tab.id !== "number") return false;
    try {
      const url = new URL(sender.url);
      const ours = new URL(ext.extensionUrl("tell.html"));
      return url.protocol === ours.protocol && url.host === ours.host && url.pathname === ours.pathname;
    } catch {
      return false;
    }
  }

  /** The tab of a message sent by our content script in a web page's top frame, else null. */
  function noticeTab(sender) {
    if (!sender || sender.frameId !== 0 || !sender.tab || typeof sender.tab.id !== "number") return null;
    if (ext.extensionId && sender.id !== ext.extensionId()) return null;
    try {
      const url = new URL(sender.url);
      if (url.protocol !== "https:" && url.protocol !== "http:") return null;
    } catch {
      return null;
    }
    return sender.tab.id;
  }

  /** A message from one of the extension's pages; `sender` as runtime.onMessage gives it. */
  async function answer(request, sender) {
    const what = request && request.what;
    if (typeof what !== "string") return { error: "unknown request" };
    if (Object.hasOwn(warningPage, what)) {
      const tabId = warningTab(sender);
      if (tabId === null) return { error: "only the warning page, in a tab of its own, may ask this" };
      return warningPage[what](request, tabId);
    }
    if (Object.hasOwn(tellPage, what)) {
      if (!fromTellPage(sender)) return { error: "only the Tell the Headteacher page, in a tab of its own, may ask this" };
      return tellPage[what](request);
    }
    if (Object.hasOwn(notice, what)) {
      const tabId = noticeTab(sender);
      if (tabId === null) return { error: "only the notice in a page's top frame may ask this" };
      return notice[what](request, tabId);
    }
    if (!Object.hasOwn(messages, what)) return { error: "unknown request" };
    return messages[what](request);
  }

  return {
    ctx,
    dispatch,
    answer,
    block: (details) => blocking.check(details), // at once: a blocking listener can't wait
    refreshRules: () => rules.refresh(),
    ship: () => recorder.ship(),
  };
}
