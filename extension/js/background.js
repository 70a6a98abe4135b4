// The service worker: decides every top-level navigation with the JS twin of decide(), sends
// warned ones to the warning page, records anonymised events in the outbox and ships them, keeps
// the policy bundle fresh. Listeners are registered at top level (the worker wakes cold); all
// state lives in chrome.storage, the in-memory Policy is only a cache of the stored bundle.

import { META_KEY, SYNC_KEY, currentBundle, refreshBundle } from "./bundle-source.js";
import { Policy, decide, splitUrl } from "./decide.js";
import * as ext from "./ext.js";
import { Outbox, SHIP_KEY, resetBackoff, shipPending } from "./outbox.js";
import { devicePseudonym, eventFromDecision, installId, newEventId, privacyLevel, randomHex } from "./sensor-event.js";

const NAVIGATION = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };
const REQUEST_HEADERS = {
  xmlhttprequest: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
  ping: { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "empty" },
  other: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
  sub_frame: { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" },
  main_frame: NAVIGATION,
};
const TICKET_MS = 30 * 60_000;
// Honoured only while managed storage is empty: lets the Playwright test point an unpacked
// extension at a local service (a browser can't be given managed policy from a test). On a
// school deployment managed storage is set, so this key is ignored.
export const OVERRIDE_KEY = "test.managed_override";
// Same rule: a clock offset (ms) so the test can stand in working time whenever it runs.
export const CLOCK_KEY = "test.clock_offset_ms";

const outbox = new Outbox(ext.local);
let builtIn = null;
let loaded = null;
let shipTimer = null;
let settingsCache = null;

function settings() {
  if (!settingsCache) settingsCache = readSettings().catch((err) => {
    settingsCache = null;
    throw err;
  });
  return settingsCache;
}

async function readSettings() {
  const managed = await ext.managed();
  let values = managed;
  let source = "managed storage";
  let clockOffset = 0;
  if (!Object.keys(managed).length) {
    const local = await ext.local.get([OVERRIDE_KEY, CLOCK_KEY]);
    values = local[OVERRIDE_KEY] ?? {};
    source = Object.keys(values).length ? "local test override (managed storage is empty)" : "not configured";
    clockOffset = Number(local[CLOCK_KEY]) || 0;
  }
  return {
    clockOffset,
    serviceUrl: typeof values.service_url === "string" ? values.service_url : "",
    token: typeof values.sensor_token === "string" ? values.sensor_token : "",
    sensorName: typeof values.sensor_name === "string" && values.sensor_name ? values.sensor_name : "extension",
    privacyLevel: values.privacy_level ?? null,
    source,
  };
}

/** The Policy in force, rebuilt only when the stored bundle (or its day's salt) changes. */
async function policyNow() {
  if (loaded && !loaded.stale) return loaded;
  const meta = (await ext.local.get([META_KEY]))[META_KEY];
  const key = meta ? `${meta.version}|${meta.etag}` : "built-in";
  if (loaded && loaded.key === key) {
    loaded.stale = false;
    return loaded;
  }
  if (!builtIn) builtIn = await (await fetch(ext.extensionUrl("default-bundle.json"))).json();
  const current = await currentBundle(ext.local, builtIn);
  loaded = { key, stale: false, policy: new Policy(current.bundle), bundle: current.bundle, source: current.source };
  return loaded;
}

let recording = Promise.resolve();
/** Keep an event for `decision` (one at a time: the install id and the day's salt are made once). */
function record(decision, ms, response = "none", reasonCategory = null) {
  recording = recording.catch(() => {}).then(() => recordNow(decision, ms, response, reasonCategory));
  return recording;
}

async function recordNow(decision, ms, response, reasonCategory) {
  const [config, { policy, bundle }, deviceId] = await Promise.all([settings(), policyNow(), installId(ext.local)]);
  const level = privacyLevel(bundle, config.privacyLevel);
  const day = policy.workingTime.local(ms).date;
  const device = await devicePseudonym({ storage: ext.local, bundle, level, deviceId, day });
  const event = eventFromDecision(decision, {
    id: newEventId(),
    ms,
    sensor: config.sensorName,
    device,
    policyVersion: policy.policyVersion,
    granularityMinutes: Number(policy.settings.event_time_granularity_minutes),
    response,
    reasonCategory,
  });
  await outbox.add(event);
  soon();
}

function soon() {
  if (shipTimer !== null) return;
  shipTimer = setTimeout(() => {
    shipTimer = null;
    ship().catch(() => {});
  }, 1000);
}

async function ship() {
  const config = await settings();
  return shipPending(outbox, ext.local, {
    serviceUrl: config.serviceUrl,
    token: config.token,
    fetch: (url, init) => fetch(url, init),
    now: () => Date.now() + config.clockOffset,
  });
}

async function syncBundle() {
  const config = await settings();
  const result = await refreshBundle(ext.local, {
    serviceUrl: config.serviceUrl,
    token: config.token,
    fetch: (url, init) => fetch(url, init),
    now: () => Date.now() + config.clockOffset,
  });
  if (result.status === "updated" && loaded) loaded.stale = true;
  return result;
}

async function now() {
  return Date.now() + (await settings()).clockOffset;
}

async function decideNavigation(url, policy, ms) {
  const facts = splitUrl(url);
  const platformId = policy.platformFor(facts.host);
  if (platformId === null) return null;
  const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
  const cookies = await ext.cookiesFor(url, names);
  return decide({ ...facts, method: "GET", headers: NAVIGATION, cookies, body: null, at: ms }, policy);
}

/** The account id the browser is signed in with on `url`'s platform (stays on the device). */
async function signedInAccount(url, policy) {
  const platformId = policy.platformFor(splitUrl(url).host);
  if (platformId === null) return null;
  const platform = policy.platforms.get(platformId);
  if (!platform.accountCookies.length) return null;
  const cookies = await ext.cookiesFor(url, platform.accountCookies.map(([name]) => name));
  return { platform: platformId, accountId: policy.accountId(platform, cookies) };
}

async function allowanceFor(platform, ms) {
  const key = `allowance.${platform}`;
  const until = (await ext.session.get([key]))[key];
  return typeof until === "number" && ms < until;
}

/** The account cookies of each platform, from every cookie the browser holds for its domains. */
async function accountCookies(policy) {
  const names = new Set();
  for (const platform of policy.platforms.values()) for (const [name] of platform.accountCookies) names.add(name);
  const byPlatform = new Map();
  for (const name of names) {
    for (const cookie of await ext.cookiesNamed(name)) {
      const platform = policy.platformFor(cookie.domain.replace(/^\./, ""));
      if (platform === null) continue;
      const jar = byPlatform.get(platform) ?? {};
      if (!(name in jar)) jar[name] = cookie.value;
      byPlatform.set(platform, jar);
    }
  }
  return byPlatform;
}

/**
 * The platforms whose top-level navigation, right now, gets a warning or is blocked (and has no
 * allowance): declarativeNetRequest sends those navigations to the warning page before any
 * request leaves. Recomputed every minute, on cookie, bundle and allowance changes.
 */
async function redirectRules() {
  const ms = await now();
  const { policy } = await policyNow();
  const jars = await accountCookies(policy);
  const ownDomains = new Map();
  for (const platform of policy.bundle.platforms) {
    for (const d of [...platform.domains, ...(platform.hosts ?? [])]) ownDomains.set(d, platform.id);
  }
  const rules = [];
  let id = 1;
  for (const platform of policy.bundle.platforms) {
    const domains = [...platform.domains, ...(platform.hosts ?? []), ...(platform.tlds ?? [])];
    if (!domains.length) continue;
    const host = platform.domains[0] ?? platform.hosts[0] ?? `x.${platform.tlds[0]}`;
    const decision = decide(
      { host, path: "/", query: "", method: "GET", headers: NAVIGATION, cookies: jars.get(platform.id) ?? {}, at: ms },
      policy,
    );
    if (decision.outcome !== "warn" && decision.outcome !== "block") continue;
    if (decision.outcome === "warn" && decision.allow_continue && (await allowanceFor(platform.id, ms))) continue;
    const excluded = [...ownDomains].filter(
      ([d, owner]) => owner !== platform.id && domains.some((mine) => d.endsWith(`.${mine}`)),
    );
    rules.push({
      id: id++,
      priority: 1,
      action: {
        type: "redirect",
        redirect: { regexSubstitution: `${ext.extensionUrl("warning.html")}#\\0` },
      },
      condition: {
        regexFilter: "^https?://.*$",
        requestDomains: domains,
        ...(excluded.length ? { excludedRequestDomains: excluded.map(([d]) => d) } : {}),
        resourceTypes: ["main_frame"],
      },
      platform: platform.id,
    });
  }
  return rules;
}

let rulesRun = Promise.resolve();
/** Replace the session redirect rules (serialised: calls never interleave). */
function refreshRules() {
  rulesRun = rulesRun
    .catch(() => {})
    .then(async () => {
      const rules = await redirectRules();
      await ext.session.set({ "dnr.platforms": rules.map((r) => r.platform) });
      await ext.replaceSessionRules(rules.map(({ platform, ...rule }) => rule));
    });
  return rulesRun;
}

async function redirectedPlatforms() {
  return (await ext.session.get(["dnr.platforms"]))["dnr.platforms"] ?? [];
}

/**
 * The fallback for what the rules can't see in advance (a path-specific decision, a rule a
 * minute stale): decide the navigation itself and send the tab to the warning page. Runs before
 * the navigation and again when it commits (a tab update made before may lose the race).
 */
async function onNavigate(details, committed = false) {
  if (details.frameId !== 0) return;
  const ms = await now();
  const { policy } = await policyNow();
  let decision;
  try {
    decision = await decideNavigation(details.url, policy, ms);
  } catch {
    return; // not a URL with a host: nothing the policy covers
  }
  if (decision === null) return;
  if (decision.outcome === "warn" || decision.outcome === "block") {
    if (decision.outcome === "warn" && decision.allow_continue && (await allowanceFor(decision.platform, ms))) return;
    if (!committed && (await redirectedPlatforms()).includes(decision.platform)) return; // the rule has it
    await ext.updateTab(details.tabId, `${ext.extensionUrl("warning.html")}#${details.url}`);
    refreshRules().catch(() => {});
    return;
  }
  if (decision.record && !committed) await record(decision, ms);
}

function bodyOf(requestBody) {
  if (!requestBody) return null;
  if (requestBody.formData) {
    const pairs = [];
    for (const [name, values] of Object.entries(requestBody.formData)) {
      for (const v of values) pairs.push(`${encodeURIComponent(name)}=${encodeURIComponent(v)}`);
    }
    return pairs.join("&");
  }
  if (requestBody.raw) {
    const parts = requestBody.raw.filter((p) => p.bytes).map((p) => new Uint8Array(p.bytes));
    const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
    let at = 0;
    for (const p of parts) {
      out.set(p, at);
      at += p.length;
    }
    return out;
  }
  return null;
}

/** Posting, messaging, connecting: observed (MV3 can't hold the request), decided, recorded. */
async function onRequest(details) {
  if (details.type === "main_frame" && details.method === "GET") return;
  if ((details.initiator ?? "").startsWith("chrome-extension:")) return;
  const ms = await now();
  const { policy } = await policyNow();
  let facts;
  try {
    facts = splitUrl(details.url);
  } catch {
    return;
  }
  const platformId = policy.platformFor(facts.host);
  if (platformId === null) return;
  const base = {
    ...facts,
    method: details.method,
    headers: REQUEST_HEADERS[details.type] ?? REQUEST_HEADERS.other,
    cookies: {},
    body: bodyOf(details.requestBody),
    at: ms,
  };
  let decision = decide(base, policy);
  if (decision.action === "browse" || decision.action === "subresource") return;
  const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
  decision = decide({ ...base, cookies: await ext.cookiesFor(details.url, names) }, policy);
  if (decision.record) await record(decision, ms);
}

async function ticketOf(id) {
  const key = `ticket.${id}`;
  const ticket = (await ext.session.get([key]))[key];
  if (!ticket || (await now()) - ticket.at > TICKET_MS) return null;
  return { key, ...ticket };
}

/** The warning page opened for `url`: decide it afresh, record the warning, give the page text. */
async function warningState({ url }) {
  const ms = await now();
  const { policy, bundle } = await policyNow();
  const config = await settings();
  let decision = null;
  try {
    decision = await decideNavigation(url, policy, ms);
  } catch {
    decision = null;
  }
  if (decision === null || (decision.outcome !== "warn" && decision.outcome !== "block")) {
    // Nothing to warn about (any more): let the page through, and keep the rules from looping.
    if (decision !== null) await ext.session.set({ [`allowance.${decision.platform}`]: ms + 10_000 });
    await refreshRules();
    return { proceed: true, school: policy.schoolName };
  }
  if (decision.outcome === "warn" && decision.allow_continue && (await allowanceFor(decision.platform, ms))) {
    await refreshRules();
    return { proceed: true, school: policy.schoolName };
  }
  const ticket = randomHex(16);
  await ext.session.set({ [`ticket.${ticket}`]: { url, at: ms } });
  if (decision.record) await record(decision, ms);
  const platform = policy.platforms.get(decision.platform);
  return {
    ticket,
    school: policy.schoolName,
    platform_name: platform.name,
    reason: decision.reason,
    clauses: policy.clauseTexts(decision.clauses),
    blocked: decision.outcome === "block",
    allow_continue: decision.allow_continue && decision.outcome !== "block",
    reasons: policy.settings.continue_reasons,
    allowance_minutes: policy.settings.allowance_minutes,
    granularity: policy.settings.event_time_granularity_minutes,
    privacy_level: privacyLevel(bundle, config.privacyLevel),
    account_seen: Boolean((await signedInAccount(url, policy))?.accountId),
  };
}

/**
 * "Register this as a school account": the only way a personal account id ever leaves the
 * device, on purpose, asked for by the member of staff (POST /api/v1/account-requests).
 */
async function register({ ticket: id, label }) {
  const ticket = await ticketOf(id);
  if (!ticket) return { heading: "This warning has expired", message: "Reload the page you wanted to see." };
  const name = String(label ?? "").split(/\s+/).filter(Boolean).join(" ").slice(0, 200);
  if (!name) return { heading: "A name is needed", message: "Give the account a name." };
  const { policy } = await policyNow();
  const seen = await signedInAccount(ticket.url, policy);
  if (!seen || !seen.accountId) {
    return { heading: "No account to register", message: "You are not signed in to this platform in this browser." };
  }
  const config = await settings();
  if (!config.serviceUrl || !config.token) {
    return {
      heading: "Not sent",
      message: "This browser is not connected to a ClauseWarden service; ask the IT admin to add the account.",
    };
  }
  try {
    const response = await fetch(`${config.serviceUrl.replace(/\/+$/, "")}/api/v1/account-requests`, {
      method: "POST",
      headers: { Authorization: `Bearer ${config.token}`, "Content-Type": "application/json" },
      body: JSON.stringify({ platform: seen.platform, account_id: seen.accountId, label: name }),
    });
    if (response.status !== 202 && response.status !== 200) throw new Error(`answered ${response.status}`);
  } catch {
    return { heading: "Not sent", message: "The ClauseWarden service could not be reached; try later." };
  }
  return { heading: "Request sent", message: "The headteacher will be asked to approve this account.", sent: true };
}

async function continueTo({ ticket: id, reason }) {
  const ticket = await ticketOf(id);
  if (!ticket) return { error: "This warning has expired. Reload the page you wanted to see." };
  const { policy } = await policyNow();
  const ms = await now();
  const decision = await decideNavigation(ticket.url, policy, ms);
  const reasons = new Set(policy.settings.continue_reasons.map((r) => r.id));
  if (!decision || decision.outcome !== "warn" || !decision.allow_continue || !reasons.has(reason)) {
    return { error: "Continue is not available. Choose one of the reasons offered." };
  }
  const minutes = Number(policy.settings.allowance_minutes);
  await ext.session.set({ [`allowance.${decision.platform}`]: ms + minutes * 60_000 });
  await ext.session.remove(ticket.key);
  await refreshRules();
  if (decision.record) await record(decision, ms, "continued", reason);
  return { url: ticket.url };
}

async function goBack({ ticket: id }) {
  const ticket = await ticketOf(id);
  if (!ticket) return {};
  const { policy } = await policyNow();
  const ms = await now();
  const decision = await decideNavigation(ticket.url, policy, ms);
  await ext.session.remove(ticket.key);
  if (decision && decision.record && (decision.outcome === "warn" || decision.outcome === "block")) {
    await record(decision, ms, "went_back");
  }
  return {};
}

async function optionsState() {
  const { policy, source } = await policyNow();
  const config = await settings();
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
    privacy_level: privacyLevel(loaded.bundle, config.privacyLevel),
    sync: stored[SYNC_KEY] ?? null,
    ship: stored[SHIP_KEY] ?? null,
    outbox: await outbox.status(),
  };
}

async function wake() {
  await Promise.all([ext.ensureAlarm("minute", 1), ext.ensureAlarm("bundle", 30)]);
  await refreshRules();
  await syncBundle();
  await refreshRules();
  await ship();
}

let cookieTimer = null;
function onCookie(change) {
  if (!loaded) return;
  const watched = [...loaded.policy.platforms.values()].some((p) => p.accountCookies.some(([n]) => n === change.cookie.name));
  if (!watched || cookieTimer !== null) return;
  cookieTimer = setTimeout(() => {
    cookieTimer = null;
    refreshRules().catch((err) => console.error("ClauseWarden rules", err));
  }, 200);
}

// --- listeners, at top level ----------------------------------------------------------------
ext.onBeforeNavigate((details) => {
  onNavigate(details).catch((err) => console.error("ClauseWarden navigation", err));
});
ext.onCommitted((details) => {
  onNavigate(details, true).catch((err) => console.error("ClauseWarden navigation", err));
});
ext.onBeforeRequest((details) => {
  onRequest(details).catch((err) => console.error("ClauseWarden request", err));
});
ext.onMessage((request) => {
  switch (request && request.what) {
    case "warning":
      return warningState(request);
    case "continue":
      return continueTo(request);
    case "back":
      return goBack(request);
    case "register":
      return register(request);
    case "state":
      return optionsState();
    default:
      return { error: "unknown request" };
  }
});
ext.onAlarm((alarm) => {
  const job = alarm.name === "bundle" ? syncBundle().then(refreshRules) : Promise.all([refreshRules(), ship()]);
  job.catch((err) => console.error("ClauseWarden alarm", err));
});
ext.onCookieChanged(onCookie);
ext.onStartup(() => {
  resetBackoff(ext.local)
    .then(wake)
    .catch((err) => console.error("ClauseWarden startup", err));
});
// The worker may have been asleep (session rules are lost when the browser closes): rules now.
refreshRules().catch((err) => console.error("ClauseWarden rules", err));
ext.onLocalChanged(META_KEY, () => {
  if (loaded) loaded.stale = true;
});
ext.onManagedChanged(() => {
  settingsCache = null;
  resetBackoff(ext.local)
    .then(wake)
    .catch((err) => console.error("ClauseWarden settings", err));
});

// For tests and the curious admin in the worker's console: recompute the redirect rules now.
globalThis.clausewarden = { refreshRules: () => refreshRules(), ship: () => ship() };
