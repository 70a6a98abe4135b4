// policy/decide.py: decide(), the facts of one request in, a Decision out. Pure: same facts,
// same answer; no browser APIs, no clock, no network. The shared vectors
// (tests/vectors/decisions.json) and the cross-check in tests/extension/ keep it equal to Python.

import * as canonical from "./canonical.js";
import { Decision, Facts } from "./facts.js";
import { untranslated } from "./hosts.js";
import { ACTION_LABELS, CATEGORY_LABELS } from "./vocabulary.js";
import { accountKey } from "./engine.js";
import { PY_SPACE } from "./py-regex.js";

export const NOT_SOCIAL = "not-social-media";
export const OUTSIDE_GROUPS = "outside-device-groups";
export const NO_RULE = "no-rule-matched";
export const PREFETCH = "prefetch";
/** The built-in rule of opening each kind of quiet area (config.AreaUse): no warning, no record. */
export const QUIET_RULES = { reading: "platform-reading", link: "short-link", work: "not-social-use" };
const ENCODER = new TextEncoder();
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const DECODER = new TextDecoder("utf-8");

/** `facts`: a Facts, or a plain object Facts.from() reads (with `url` or `host`). */
export function decide(facts, policy) {
  facts = Facts.from(facts);
  const working = policy.workingTime(facts.at);
  let group = facts.device_group;
  if (group === null) group = facts.client ? policy.groupForClient(facts.client) : policy.staffGroup;
  const platformId = policy.classifier.platformFor(facts.host);
  if (group === null) {
    return _pass(
      facts,
      working,
      null,
      OUTSIDE_GROUPS,
      "The device is outside every configured device group, so the policy does not apply to it here.",
    );
  }
  if (platformId === null) return _pass(facts, working, group, NOT_SOCIAL, "This site is not social media.");

  let platform = policy.platforms.get(platformId);
  const host = untranslated(facts.host);
  let endpoint = null;
  for (const [claimer, endpoints] of policy.claims.get(host) || []) {
    endpoint = _endpoint(endpoints, facts, host, policy.bodyPeekBytes);
    if (endpoint !== null) {
      platform = claimer; // another platform's act on this host (engine.js _claims)
      break;
    }
  }
  if (endpoint === null) endpoint = _endpoint(platform.endpoints, facts, host, policy.bodyPeekBytes);
  const area = _area(platform, host, facts.path, facts.query);
  const category = area !== null && area.category ? area.category : platform.category;
  let action;
  if (endpoint !== null) action = endpoint.action;
  else if (isPrefetch(facts.headers)) {
    return _quiet(
      platform,
      category,
      working,
      group,
      PREFETCH,
      `${platform.name}: a prefetch or prerender the browser made on its own gets no ` +
        `warning and no record; the page is decided when it is opened (rule ${PREFETCH}).`,
    );
  } else if (isTopLevelNavigation(facts.method, facts.headers)) {
    if (area !== null && Object.hasOwn(QUIET_RULES, area.use)) {
      const ruleId = QUIET_RULES[area.use];
      return _quiet(platform, category, working, group, ruleId, _quietReason(platform, area, ruleId));
    }
    action = area !== null && area.opening ? area.opening : "browse";
  } else action = "subresource";

  let account = "unknown";
  let schoolAccount = null;
  const identity = Object.keys(facts.cookies).length ? policy.accountIdentity(platform, facts.cookies) : null;
  if (identity !== null) {
    account = "personal";
    const [kind, accountId] = identity;
    const day = policy.workingTime.local(facts.at).date;
    for (const spec of policy.accounts.get(accountKey(platform.id, accountId)) || []) {
      if (spec.matches(kind, action, day)) {
        account = "school";
        schoolAccount = spec.id;
        break;
      }
    }
  } else {
    // A school accounts device group: where the platform's cookies carry no account id, the
    // device the school's account is used on stands for the account.
    const held = policy.deviceAccounts.get(accountKey(group, platform.id));
    if (held !== undefined && held.matches("account", action, policy.workingTime.local(facts.at).date)) {
      account = "school";
      schoolAccount = held.id;
    }
  }

  for (const rule of policy.rules) {
    if (rule.matches(category, platform.id, action, working, group, account)) {
      return new Decision({
        platform: platform.id,
        category,
        action,
        working_time: working,
        device_group: group,
        account,
        outcome: rule.outcome,
        clauses: rule.clauses,
        reason: _reason(platform, category, action, working, account, rule.outcome, rule.id, rule.clauses),
        rule: rule.id,
        record: rule.record,
        allow_continue: rule.allowContinue,
        school_account: schoolAccount,
        may_apply: rule.mayApply,
      });
    }
  }
  return new Decision({
    platform: platform.id,
    category,
    action,
    working_time: working,
    device_group: group,
    account,
    outcome: "allow",
    clauses: [],
    reason: _reason(platform, category, action, working, account, "allow", NO_RULE, []),
    rule: NO_RULE,
    school_account: schoolAccount,
  });
}

/**
 * A page the person asked for, not something a page fetched or embedded.
 * Sec-Fetch-* decide when present; browsers without them are judged by Accept.
 */
export function isTopLevelNavigation(method, headers) {
  const mode = headers["sec-fetch-mode"];
  const dest = headers["sec-fetch-dest"];
  if (mode !== undefined || dest !== undefined) {
    return mode === "navigate" && (dest === undefined || dest === "document");
  }
  return (method === "GET" || method === "POST") && (headers.accept ?? "").includes("text/html");
}

/** The first `peek` bytes of the body as text (Python: bytes[:peek].decode("utf-8", "replace")). */
function _bodyText(body, peek) {
  if (body === null) return "";
  if (typeof body === "string") {
    // ASCII strings are their own UTF-8 bytes: skip the encode/decode round trip.
    if (body.length <= peek && /^[\x00-\x7f]*$/.test(body)) return body;
    body = ENCODER.encode(body);
  }
  return DECODER.decode(body.subarray(0, peek));
}

/**
 * A prefetch or prerender the browser made on its own (`Sec-Purpose: prefetch`, with or without
 * `;prerender`): nobody has opened the page yet.
 */
export function isPrefetch(headers) {
  const purpose = headers["sec-purpose"];
  return purpose !== undefined && _pyStrip(purpose.split(";", 1)[0]).toLowerCase() === "prefetch";
}

function _pyStrip(text) {
  return text.replace(PY_STRIP, "");
}

function _area(platform, host, path, query) {
  for (const area of platform.areas) if (area.matches(host, path, query)) return area;
  return null;
}

/** The act endpoint the request is, judged on its canonical form (canonical.js) and on the raw
 * one. An endpoint that names its act in the body, where the body could not be read whole (longer
 * than the look, or an encoding the sensor could not undo), is the act it may be: acts fail closed. */
function _endpoint(endpoints, facts, host, peek) {
  if (!endpoints.length) return null;
  const path = canonical.path(facts.path);
  const query = canonical.query(facts.query);
  const methods = canonical.methods(facts.method, facts.headers, facts.query);
  let text = null;
  if (facts.body !== null && methods.has("POST")) {
    text = _bodyText(facts.body, peek);
    for (const m of canonical.formMethods(text)) methods.add(m);
  }
  let views = null;
  const cut = facts.body_cut || (facts.body !== null && _byteLength(facts.body) > peek);
  let maybe = null;
  for (const endpoint of endpoints) {
    if (!canonical.accepts(endpoint.methods, methods)) continue;
    if (endpoint.hosts.size && !endpoint.hosts.has(host)) continue;
    if (!(endpoint.pathAnyCase.test(path) || endpoint.path.test(facts.path))) continue;
    if (endpoint.query !== null && !(endpoint.query.test(query) || endpoint.query.test(facts.query))) continue;
    if (endpoint.body !== null) {
      if (views === null) {
        if (text === null) text = _bodyText(facts.body, peek);
        views = canonical.bodyViews(text, facts.headers["content-type"] ?? "");
      }
      if (!views.some((view) => endpoint.body.test(view))) {
        if (cut && maybe === null) maybe = endpoint;
        continue;
      }
    }
    return endpoint;
  }
  return maybe;
}

function _byteLength(body) {
  if (typeof body !== "string") return body.length;
  return /^[\x00-\x7f]*$/.test(body) ? body.length : ENCODER.encode(body).length;
}

/** A request of a platform that passes without a warning and is not recorded. */
function _quiet(platform, category, working, group, rule, reason) {
  return new Decision({
    platform: platform.id,
    category,
    action: rule === PREFETCH ? "subresource" : "browse",
    working_time: working,
    device_group: group,
    account: "unknown",
    outcome: "allow",
    clauses: [],
    reason,
    rule,
  });
}

const _QUIET_WORDS = {
  "platform-reading": "reading, so no warning and no record",
  "short-link": "a link that only leads elsewhere, so no warning and no record; the page it leads to is decided",
  "not-social-use": "not social use, so no warning and no record",
};

function _quietReason(platform, area, rule) {
  return `${platform.name}, ${area.name}: ${_QUIET_WORDS[rule]} (rule ${rule}).`;
}

function _pass(facts, working, group, rule, reason) {
  const navigation = isTopLevelNavigation(facts.method, facts.headers);
  return new Decision({
    platform: null,
    category: null,
    action: navigation ? "browse" : "subresource",
    working_time: working,
    device_group: group,
    account: "unknown",
    outcome: "allow",
    clauses: [],
    reason,
    rule,
  });
}

const _OUTCOME_WORDS = {
  allow: "is allowed",
  log: "is allowed and recorded anonymously",
  warn: "gets a warning",
  block: "is blocked",
};
const _ACCOUNT_WORDS = { school: "from an approved school account", personal: "from a personal account", unknown: "" };

/** Added to the reason of a clause 7 warning or record outside working time. */
export const ANY_TIME = ": clause 7 covers the school's computers and networks at any time, not only working time";

function _reason(platform, category, action, working, account, outcome, rule, clauses) {
  const when = working ? "during working time" : "outside working time";
  const what = ACTION_LABELS[action];
  const who = _ACCOUNT_WORDS[account];
  const kind = CATEGORY_LABELS[category] ?? category;
  const subject = `${what[0].toUpperCase()}${what.slice(1)} ${platform.name} (${kind})`;
  const parts = who ? [subject, who, when] : [subject, when];
  const tail = !working && outcome !== "allow" && clauses.includes("7") ? ANY_TIME : "";
  return `${parts.join(" ")} ${_OUTCOME_WORDS[outcome]}${tail} (rule ${rule}).`;
}
