// policy/decide.py: decide(), the facts of one request in, a Decision out. Pure: same facts,
// same answer; no browser APIs, no clock, no network. The shared vectors
// (tests/vectors/decisions.json) and the cross-check in tests/extension/ keep it equal to Python.

import { Decision, Facts } from "./facts.js";
import { normaliseHost } from "./hosts.js";
import { ACTION_LABELS, CATEGORY_LABELS } from "./vocabulary.js";
import { accountKey } from "./engine.js";

export const NOT_SOCIAL = "not-social-media";
export const OUTSIDE_GROUPS = "outside-device-groups";
export const NO_RULE = "no-rule-matched";
const ENCODER = new TextEncoder();
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

  const platform = policy.platforms.get(platformId);
  const endpoint = _endpoint(platform, facts, policy.bodyPeekBytes);
  let action;
  if (endpoint !== null) action = endpoint.action;
  else if (isTopLevelNavigation(facts.method, facts.headers)) action = "browse";
  else action = "subresource";

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
    if (rule.matches(platform.category, platform.id, action, working, group, account)) {
      return new Decision({
        platform: platform.id,
        category: platform.category,
        action,
        working_time: working,
        device_group: group,
        account,
        outcome: rule.outcome,
        clauses: rule.clauses,
        reason: _reason(platform, action, working, account, rule.outcome, rule.id),
        rule: rule.id,
        record: rule.record,
        allow_continue: rule.allowContinue,
        school_account: schoolAccount,
      });
    }
  }
  return new Decision({
    platform: platform.id,
    category: platform.category,
    action,
    working_time: working,
    device_group: group,
    account,
    outcome: "allow",
    clauses: [],
    reason: _reason(platform, action, working, account, "allow", NO_RULE),
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

function _endpoint(platform, facts, peek) {
  if (!platform.endpoints.length) return null;
  let bodyText = null;
  for (const endpoint of platform.endpoints) {
    if (!endpoint.methods.has(facts.method)) continue;
    if (endpoint.hosts.size && !endpoint.hosts.has(normaliseHost(facts.host))) continue;
    if (!endpoint.path.test(facts.path)) continue;
    if (endpoint.query !== null && !endpoint.query.test(facts.query)) continue;
    if (endpoint.body !== null) {
      if (bodyText === null) bodyText = _bodyText(facts.body, peek);
      if (!endpoint.body.test(bodyText)) continue;
    }
    return endpoint;
  }
  return null;
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

function _reason(platform, action, working, account, outcome, rule) {
  const when = working ? "during working time" : "outside working time";
  const what = ACTION_LABELS[action];
  const who = _ACCOUNT_WORDS[account];
  const kind = CATEGORY_LABELS[platform.category] ?? platform.category;
  const subject = `${what[0].toUpperCase()}${what.slice(1)} ${platform.name} (${kind})`;
  const parts = who ? [subject, who, when] : [subject, when];
  return `${parts.join(" ")} ${_OUTCOME_WORDS[outcome]} (rule ${rule}).`;
}
