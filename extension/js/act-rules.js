// Which acts a page's own scripts send (a post, a message, a friend request, a reference) the
// extension can hold in Manifest V3, and the declarativeNetRequest rules that hold them.
//
// MV3 gives a normal extension no blocking webRequest: a request can only be cancelled by a
// declarativeNetRequest rule written in advance, which sees the method, the URL, the resource type
// and the initiator, never the body. So an endpoint the catalogue recognises by method, path and
// query is held: while respond() (js/policy/respond.js) would not send its act on right now
// (time, the platform's account cookies, acts opened by Continue on a held act) a session rule
// blocks requests of that method to that URL on the platform's hosts. An endpoint recognised only by its body (GraphQL operation names, MediaWiki's
// api.php, Flickr's REST methods, ...) can't be: it is decided from the body webRequest shows the
// worker and recorded, as before. Pure: no browser APIs, no clock.

import { endpointUrlRegex } from "./dnr-regex.js";
import { accountKey } from "./policy/engine.js";
import { Decision } from "./policy/facts.js";
import { normaliseHost } from "./policy/hosts.js";

/** What a page's scripts send: fetch/XHR, sendBeacon, others (`other` covers some beacons). */
export const ACT_TYPES = ["xmlhttprequest", "ping", "other", "sub_frame"];
/** Acts rules start at this id; redirect rules count from 1 (fewer than this many platforms). */
export const FIRST_ACT_RULE = 10_000;
/** An act sent by the platform's own page script: what respond() is asked about for a rule. */
const SCRIPT_ACT = { navigation: false, method: "POST", sec_fetch_site: "same-origin", prefetch: false };

/** The literal starts of a path pattern (through one leading group's alternatives), [""] when
 * it can't tell: enough to see that `^/api/graphql` and `^/(ajax/add_friend|a/friends)` differ. */
function pathStarts(path) {
  if (!path.startsWith("^")) return [""];
  const literal = (s) => /^[^\\.*+?()[\]{}|^$]*/.exec(s)[0];
  const rest = path.slice(1);
  const head = literal(rest);
  const after = rest.slice(head.length);
  if (/^[?*{]/.test(after)) return [head.slice(0, -1)];
  if (!after.startsWith("(")) return [head];
  // The group's top-level alternatives.
  let depth = 0;
  let i = 0;
  let from = after.startsWith("(?:") ? 3 : 1;
  const alts = [];
  for (i = 0; i < after.length; i += 1) {
    const c = after[i];
    if (c === "\\") i += 1;
    else if (c === "[") i = after.indexOf("]", i + 2);
    else if (c === "(") depth += 1;
    else if (c === ")" && --depth === 0) break;
    else if (c === "|" && depth === 1) {
      alts.push(after.slice(from, i));
      from = i + 1;
    }
    if (i < 0) return [head];
  }
  if (i >= after.length) return [head];
  alts.push(after.slice(from, i));
  if (/^[?*{]/.test(after.slice(i + 1))) return [head];
  return alts.map((alt) => head + literal(alt));
}

/** Could a request match both endpoints (same method on the same host, overlapping paths)? */
function mayOverlap(a, b) {
  if (![...a.methods].some((m) => b.methods.includes(m))) return false;
  if (a.hosts.length && b.hosts.length && !a.hosts.some((h) => b.hosts.includes(h))) return false;
  const sa = pathStarts(a.path);
  const sb = pathStarts(b.path);
  return sa.some((x) => sb.some((y) => x.startsWith(y) || y.startsWith(x)));
}

/**
 * The Decision about an act (`action`) on `platform` at `at` with the browser's account cookies
 * `jar`, as decide() makes it for a request that endpoint recognises (a staff device: the
 * extension runs on school devices only).
 */
export function actDecision(policy, platformId, action, at, jar = {}) {
  const platform = policy.platforms.get(platformId);
  const working = policy.workingTime(at);
  const group = policy.staffGroup;
  let account = "unknown";
  let schoolAccount = null;
  const accountId = Object.keys(jar).length ? policy.accountId(platform, jar) : null;
  if (accountId !== null) {
    account = "personal";
    const day = policy.workingTime.local(at).date;
    for (const spec of policy.accounts.get(accountKey(platform.id, accountId)) || []) {
      if (spec.activeOn(day) && spec.actions.has(action)) {
        account = "school";
        schoolAccount = spec.id;
        break;
      }
    }
  }
  const rule = policy.rules.find((r) => r.matches(platform.category, platform.id, action, working, group, account));
  return new Decision({
    platform: platform.id,
    category: platform.category,
    action,
    working_time: working,
    device_group: group,
    account,
    outcome: rule ? rule.outcome : "allow",
    clauses: rule ? rule.clauses : [],
    may_apply: rule ? rule.mayApply : [],
    reason: "",
    rule: rule ? rule.id : "no-rule-matched",
    record: rule ? rule.record : false,
    allow_continue: rule ? rule.allowContinue : false,
    school_account: schoolAccount,
  });
}

/**
 * Every endpoint of the catalogue: whether MV3 can hold it, and why not.
 * [{platform, index, action, methods, holdable, why, regex}]
 */
export function catalogueActs(policy) {
  const out = [];
  for (const platform of policy.bundle.platforms) {
    (platform.endpoints ?? []).forEach((e, index) => {
      const base = { platform: platform.id, index, action: e.action, methods: e.methods };
      if (e.body !== null && e.body !== undefined) {
        out.push({ ...base, holdable: false, why: "recognised by its body, which declarativeNetRequest can't see" });
        return;
      }
      const regex = endpointUrlRegex({ path: e.path, query: e.query ?? null, hosts: e.hosts ?? [] });
      if (regex === null) out.push({ ...base, holdable: false, why: "its pattern has no RE2 equivalent" });
      else out.push({ ...base, holdable: true, why: null, regex });
    });
  }
  return out;
}

/**
 * The session rules that hold acts at `at`: for each endpoint MV3 can hold whose act respond()
 * would not send on now, a `block` rule for its methods and URL on the
 * platform's hosts. An endpoint is held only if every earlier endpoint of the platform that may
 * match the same request (decide() takes the first) is stopped too, so a request the policy lets
 * through is never blocked. Returns [{id, priority, action, condition, platform, index, navigation}].
 */
export async function actRules({ policy, at, jars, allowances, firstId = FIRST_ACT_RULE }) {
  const ownDomains = new Map();
  for (const platform of policy.bundle.platforms) {
    for (const d of [...platform.domains, ...(platform.hosts ?? [])]) ownDomains.set(d, platform.id);
  }
  const rules = [];
  let id = firstId;
  for (const platform of policy.bundle.platforms) {
    const endpoints = platform.endpoints ?? [];
    if (!endpoints.length) continue;
    const domains = [...platform.domains, ...(platform.hosts ?? []), ...(platform.tlds ?? [])];
    if (!domains.length) continue;
    const excluded = [...ownDomains]
      .filter(([d, owner]) => owner !== platform.id && domains.some((mine) => d.endsWith(`.${mine}`)))
      .map(([d]) => d);
    const jar = jars.get(platform.id) ?? {};
    // Held while respond() would not send it on (hold it, or refuse it): an allowance from
    // Continue on a page's warning does not open acts, only one from Continue on a held act.
    const stopped = await Promise.all(
      endpoints.map(
        async (e) => (await allowances.respond(actDecision(policy, platform.id, e.action, at, jar), SCRIPT_ACT, at)).request !== "forward",
      ),
    );
    const shape = (e) => ({ methods: e.methods, hosts: e.hosts ?? [], path: e.path });
    for (const [index, e] of endpoints.entries()) {
      if (!stopped[index] || (e.body !== null && e.body !== undefined)) continue;
      const earlier = endpoints.slice(0, index);
      if (earlier.some((b, j) => !stopped[j] && mayOverlap(shape(b), shape(e)))) continue;
      const regexFilter = endpointUrlRegex({ path: e.path, query: e.query ?? null, hosts: e.hosts ?? [] });
      if (regexFilter === null) continue;
      const condition = {
        regexFilter,
        isUrlFilterCaseSensitive: true,
        requestDomains: e.hosts?.length ? [...e.hosts] : domains,
        ...(excluded.length && !e.hosts?.length ? { excludedRequestDomains: excluded } : {}),
      };
      const methods = e.methods.map((m) => m.toLowerCase());
      const common = { priority: 2, action: { type: "block" }, platform: platform.id, index };
      rules.push({
        id: id++,
        ...common,
        condition: { ...condition, requestMethods: methods, resourceTypes: ACT_TYPES },
        navigation: false,
      });
      // A form posted as a page (mbasic.facebook.com): held too, and the tab shown the warning
      // page. A GET navigation is the navigation rules' business (the warning page, as now).
      const posted = methods.filter((m) => m !== "get");
      if (posted.length) {
        rules.push({
          id: id++,
          ...common,
          condition: { ...condition, requestMethods: posted, resourceTypes: ["main_frame"] },
          navigation: true,
        });
      }
    }
  }
  return rules;
}

/**
 * The acts respond() would not send on at `at` ([[platform, action], ...]), whatever their
 * endpoint: what a blocking listener holds (js/blocking-acts.js), body-named endpoints included.
 */
export async function heldActs({ policy, at, jars, allowances }) {
  const out = [];
  for (const platform of policy.bundle.platforms) {
    const jar = jars.get(platform.id) ?? {};
    for (const action of new Set((platform.endpoints ?? []).map((e) => e.action))) {
      const response = await allowances.respond(actDecision(policy, platform.id, action, at, jar), SCRIPT_ACT, at);
      if (response.request !== "forward") out.push([platform.id, action]);
    }
  }
  return out;
}

/**
 * Whether the act rules in force (`held`: [{platform, index, navigation}], as stored under
 * ACTS_KEY of js/session-rules.js) block this request: the JS twin of their regexFilter, with the core's patterns.
 */
export function heldByRules(policy, held, { platform, host, method, path, query, type }) {
  const spec = policy.platforms.get(platform);
  if (!spec) return false;
  const navigation = type === "main_frame";
  if (navigation && method === "GET") return false;
  if (!navigation && !ACT_TYPES.includes(type)) return false;
  return held.some((h) => {
    if (h.platform !== platform || h.navigation !== navigation) return false;
    const e = spec.endpoints[h.index];
    if (!e || e.body !== null || !e.methods.has(method)) return false;
    if (e.hosts.size && !e.hosts.has(normaliseHost(host))) return false;
    return e.path.test(path) && (e.query === null || e.query.test(query));
  });
}
