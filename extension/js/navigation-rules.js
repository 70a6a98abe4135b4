// Which top-level navigations go to the warning page: decided with the JS twin of decide(), from
// the URL and the platform's account cookies only (nothing else about the page is read).
//
// For every platform whose navigation, right now, gets a warning or is blocked (and has no
// allowance), a declarativeNetRequest session rule sends it to the warning page before any
// request leaves; js/session-rules.js keeps those rules in step with the time, cookies and
// allowances.

import { endpointUrlRegex } from "./dnr-regex.js";
import { QUIET_RULES } from "./policy/decide.js";
import { Facts } from "./policy/facts.js";
import { decideRequest } from "./policy/respond.js";

export const NAVIGATION = { "sec-fetch-mode": "navigate", "sec-fetch-dest": "document" };

/** The host of `url` as the core reads it (Facts.from_url); throws when it has none. */
const hostOf = (url) => Facts.fromUrl(url, { at: 0 }).host;

/** The names of a platform's account cookies. */
const cookieNames = (policy, platformId) => policy.platforms.get(platformId).accountCookies.map(([name]) => name);

/**
 * A top-level navigation to `url` (a GET, or the method of a form posted as a page) at `at`, with
 * the browser's account cookies: [Decision, Request] for respond(), or null when not a platform.
 */
export async function decideNavigation(url, policy, at, cookiesFor, method = "GET") {
  const facts = Facts.fromUrl(url, { method, headers: NAVIGATION, at });
  const platformId = policy.classifier.platformFor(facts.host);
  if (platformId === null) return null;
  const cookies = await cookiesFor(url, cookieNames(policy, platformId));
  return decideRequest(new Facts({ ...facts, cookies }), policy);
}

/** The account id the browser is signed in with on `url`'s platform (stays on the device). */
export async function signedInAccount(url, policy, cookiesFor) {
  const platformId = policy.classifier.platformFor(hostOf(url));
  if (platformId === null) return null;
  const platform = policy.platforms.get(platformId);
  if (!platform.accountCookies.length) return null;
  const cookies = await cookiesFor(url, cookieNames(policy, platformId));
  const identity = policy.accountIdentity(platform, cookies);
  return { platform: platformId, accountId: identity?.[1] ?? null, kind: identity?.[0] ?? null };
}

/** The account cookies of each platform, from every cookie the browser holds for its domains. */
export async function accountCookies(policy, cookiesNamed) {
  const names = new Set();
  for (const platform of policy.platforms.values()) for (const [name] of platform.accountCookies) names.add(name);
  const byPlatform = new Map();
  for (const name of names) {
    for (const cookie of await cookiesNamed(name)) {
      const platform = policy.classifier.platformFor(cookie.domain.replace(/^\./, ""));
      if (platform === null) continue;
      const jar = byPlatform.get(platform) ?? {};
      if (!(name in jar)) jar[name] = cookie.value;
      byPlatform.set(platform, jar);
    }
  }
  return byPlatform;
}

/** A platform's parts opened without a warning (config.Area: reading, short links, work tools). */
const quietAreas = (platform) => (platform.areas ?? []).filter((a) => Object.hasOwn(QUIET_RULES, a.use ?? "app"));

/**
 * The session rules for `at`: [{id, priority, action, condition, platform}], one per platform
 * whose top-level navigation gets a page (the warning or blocked page) by respond() right now. A part of such a
 * platform that is opened without a warning (a short link, its CDN, LinkedIn Learning, a sign-in
 * dialog) never goes to the warning page: its hosts are left out of the redirect, or an `allow`
 * rule of higher priority lets its paths through. (Were it sent to the warning page, the page
 * would let it through with a pass for the whole platform, and a short link could carry that
 * pass to the platform itself.)
 */
export async function redirectRules({ policy, at, jars, allowances, warningPage }) {
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
    const facts = new Facts({ host, method: "GET", headers: NAVIGATION, cookies: jars.get(platform.id) ?? {}, at });
    const [decision, request] = decideRequest(facts, policy);
    if ((await allowances.respond(decision, request, at)).page === "none") continue; // it opens
    const excluded = [...ownDomains]
      .filter(([d, owner]) => owner !== platform.id && domains.some((mine) => d.endsWith(`.${mine}`)))
      .map(([d]) => d);
    const quiet = quietAreas(platform);
    for (const area of quiet) if (area.path == null && area.query == null) excluded.push(...(area.domains ?? []));
    rules.push({
      id: id++,
      priority: 1,
      action: { type: "redirect", redirect: { regexSubstitution: `${warningPage}#\\0` } },
      condition: {
        regexFilter: "^https?://.*$",
        requestDomains: domains,
        ...(excluded.length ? { excludedRequestDomains: excluded } : {}),
        resourceTypes: ["main_frame"],
      },
      platform: platform.id,
    });
    for (const area of quiet) {
      if (area.path == null && area.query == null) continue;
      const regexFilter = endpointUrlRegex({ path: area.path ?? "", query: area.query ?? null });
      if (regexFilter === null) continue; // not expressible for the browser: the warning page decides
      rules.push({
        id: id++,
        priority: 2,
        action: { type: "allow" },
        condition: {
          regexFilter,
          requestDomains: area.domains?.length ? area.domains : domains,
          resourceTypes: ["main_frame"],
        },
        platform: platform.id,
      });
    }
  }
  return rules;
}
