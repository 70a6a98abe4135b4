// What the worker does as the browser navigates and sends requests: the fallback for
// navigations the redirect rules can't see in advance, and the observer of posting, messaging
// and connecting (decided and recorded; those the act rules hold are recorded when
// onErrorOccurred says so, js/held-acts.js).

import { NAVIGATION, decideNavigation } from "./navigation-rules.js";
import { Facts } from "./policy/facts.js";
import { decideRequest } from "./policy/respond.js";

// The Sec-Fetch-* headers a browser sends for each webRequest resource type.
export const REQUEST_HEADERS = {
  xmlhttprequest: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
  ping: { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "empty" },
  other: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
  sub_frame: { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" },
  main_frame: NAVIGATION,
};

/**
 * Sec-Fetch-Site of a request as webRequest shows it, from its initiator (an origin): null when
 * there is none (the browser itself), same-origin, same-site for another host of the same
 * platform (its own script on its API host), else cross-site (another site's script).
 */
export function fetchSite(details, policy) {
  const initiator = details.initiator;
  if (!initiator || initiator === "null") return null;
  let from;
  let to;
  try {
    from = new URL(initiator);
    to = new URL(details.url);
  } catch {
    return null;
  }
  if (from.origin === to.origin) return "same-origin";
  const platform = policy.classifier.platformFor(from.hostname);
  return platform !== null && platform === policy.classifier.platformFor(to.hostname) ? "same-site" : "cross-site";
}

/** The headers of the core's Facts for a request webRequest shows. */
export function requestHeaders(details, policy) {
  const headers = { ...(REQUEST_HEADERS[details.type] ?? REQUEST_HEADERS.other) };
  const site = fetchSite(details, policy);
  if (site !== null) headers["sec-fetch-site"] = site;
  return headers;
}

/**
 * A top-level navigation (webNavigation, before it starts and again when it commits: a tab
 * update made before may lose the race), carried out as respond() says. Whatever the rules can't
 * know in advance (a path-specific decision, a rule a minute stale) is decided here and the tab
 * sent to the warning page. `ctx`: {ext (cookiesFor, updateTab, extensionUrl), settings,
 * policies, allowances, rules, recorder, warnings (the WarningFlow)}.
 */
export async function onNavigate(ctx, details, committed = false) {
  if (details.frameId !== 0) return;
  const at = await ctx.settings.now();
  const { policy } = await ctx.policies.current();
  let decided;
  try {
    decided = await decideNavigation(details.url, policy, at, ctx.ext.cookiesFor);
  } catch {
    return; // not a URL with a host: nothing the policy covers
  }
  if (decided === null) return;
  const [decision, request] = decided;
  const response = await ctx.allowances.respond(decision, request, at);
  if (response.page !== "none") {
    // The warning is recorded here, as the tab is sent to the warning page (by the redirect rule
    // or by the worker), with a one-time nonce for the page that tab will show.
    await ctx.warnings.expect(details.tabId, details.url, decision, response, at);
    if (!committed && (await ctx.rules.platforms()).includes(decision.platform)) return; // the rule has it
    await ctx.ext.updateTab(details.tabId, `${ctx.ext.extensionUrl("warning.html")}#${details.url}`);
    ctx.rules.refresh().catch(() => {});
    return;
  }
  if (response.record && !committed) await ctx.recorder.record(decision, at);
}

/** webRequest's requestBody as the core's body: form fields URL-encoded, or the raw bytes. */
export function bodyOf(requestBody) {
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
    let offset = 0;
    for (const p of parts) {
      out.set(p, offset);
      offset += p.length;
    }
    return out;
  }
  return null;
}

/**
 * Posting, messaging, connecting: observed, decided, and carried out as respond() says (account
 * cookies read only for an act). A request the act rules hold is left to js/held-acts.js, which
 * records it as held; one they can't hold (recognised by its body) is sent all the same, and
 * recorded as sent; one an allowance lets through is recorded no more (`continued` stands for it).
 */
export async function onRequest(ctx, details) {
  if (details.type === "main_frame" && details.method === "GET") return;
  if ((details.initiator ?? "").startsWith("chrome-extension:")) return;
  const at = await ctx.settings.now();
  const { policy } = await ctx.policies.current();
  let url;
  try {
    url = Facts.fromUrl(details.url, { at });
  } catch {
    return;
  }
  const platformId = policy.classifier.platformFor(url.host);
  if (platformId === null) return;
  const facts = new Facts({ ...url, method: details.method, headers: requestHeaders(details, policy), body: bodyOf(details.requestBody) });
  const [first] = decideRequest(facts, policy); // (account cookies are read only for an act)
  if (first.action === "browse" || first.action === "subresource") return;
  const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
  const [decision, request] = decideRequest(new Facts({ ...facts, cookies: await ctx.ext.cookiesFor(details.url, names) }), policy);
  const response = await ctx.allowances.respond(decision, request, at);
  if (response.request !== "forward" && ctx.held && (await ctx.held.heldByRules(policy, decision, facts, details.type, details.requestId))) {
    ctx.held.candidate(details, decision, request, response, at);
    return;
  }
  if (response.record) await ctx.recorder.record(decision, at);
}
