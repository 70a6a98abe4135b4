// What the worker does as the browser navigates and sends requests: the fallback for
// navigations the redirect rules can't see in advance, and the observer of posting, messaging
// and connecting (decided and recorded; those the act rules hold are recorded when
// onErrorOccurred says so, js/held-acts.js).

import { stopping } from "./allowances.js";
import { NAVIGATION, decideNavigation } from "./navigation-rules.js";
import { decide } from "./policy/decide.js";
import { Facts } from "./policy/facts.js";
import { WARNING_OUTCOMES } from "./policy/warning.js";

// The Sec-Fetch-* headers a browser sends for each webRequest resource type.
export const REQUEST_HEADERS = {
  xmlhttprequest: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
  ping: { "sec-fetch-mode": "no-cors", "sec-fetch-dest": "empty" },
  other: { "sec-fetch-mode": "cors", "sec-fetch-dest": "empty" },
  sub_frame: { "sec-fetch-mode": "navigate", "sec-fetch-dest": "iframe" },
  main_frame: NAVIGATION,
};

/**
 * A top-level navigation (webNavigation, before it starts and again when it commits: a tab
 * update made before may lose the race). Whatever the rules can't know in advance (a path-specific
 * decision, a rule a minute stale) is decided here and the tab sent to the warning page.
 * `ctx`: {ext (cookiesFor, updateTab, extensionUrl), settings, policies, allowances, rules, recorder,
 * warnings (the WarningFlow)}.
 */
export async function onNavigate(ctx, details, committed = false) {
  if (details.frameId !== 0) return;
  const at = await ctx.settings.now();
  const { policy } = await ctx.policies.current();
  let decision;
  try {
    decision = await decideNavigation(details.url, policy, at, ctx.ext.cookiesFor);
  } catch {
    return; // not a URL with a host: nothing the policy covers
  }
  if (decision === null) return;
  if (WARNING_OUTCOMES.includes(decision.outcome)) {
    if ((await stopping(decision, at, ctx.allowances)) === null) return; // an allowance runs
    // The warning is recorded here, as the tab is sent to the warning page (by the redirect rule
    // or by the worker), with a one-time nonce for the page that tab will show.
    await ctx.warnings.expect(details.tabId, details.url, decision, at);
    if (!committed && (await ctx.rules.platforms()).includes(decision.platform)) return; // the rule has it
    await ctx.ext.updateTab(details.tabId, `${ctx.ext.extensionUrl("warning.html")}#${details.url}`);
    ctx.rules.refresh().catch(() => {});
    return;
  }
  if (decision.record && !committed) await ctx.recorder.record(decision, at);
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
 * Posting, messaging, connecting: observed, decided, recorded (account cookies read only then).
 * A request the act rules hold is left to js/held-acts.js, which records it as held.
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
  const facts = new Facts({
    ...url,
    method: details.method,
    headers: REQUEST_HEADERS[details.type] ?? REQUEST_HEADERS.other,
    body: bodyOf(details.requestBody),
  });
  let decision = decide(facts, policy);
  if (decision.action === "browse" || decision.action === "subresource") return;
  const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
  decision = decide(new Facts({ ...facts, cookies: await ctx.ext.cookiesFor(details.url, names) }), policy);
  if (ctx.held && WARNING_OUTCOMES.includes(decision.outcome)) {
    if (await ctx.held.heldByRules(policy, decision, facts, details.type)) {
      ctx.held.candidate(details, decision, at);
      return;
    }
  }
  if (decision.record) await ctx.recorder.record(decision, at);
}
