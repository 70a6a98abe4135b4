// policy/warning.py: the warning page's content and its Continue / Go back rules, once for every
// sensor (tests/vectors/warning.json holds the cases both languages pass). Pure: the bundle and a
// Decision in, plain JSON out. What only the extension adds (its ticket, the privacy level) is
// added by js/warning-flow.js, not here.

/** The outcomes that get the warning page on a top-level navigation. */
export const WARNING_OUTCOMES = ["warn", "block"];

/** Continue is offered (and an allowance honoured) only on a warning whose rule allows it. */
export function continueOffered(decision) {
  return decision.outcome === "warn" && Boolean(decision.allow_continue);
}

/** Continue goes through only where it is offered and with one of the reasons offered. */
export function continueAccepted(bundle, decision, reason) {
  return continueOffered(decision) && _reasonIds(bundle).has(reason);
}

/** "Go back" is recorded (as `went_back`) for a warning or block that is recorded at all. */
export function goingBackRecorded(decision) {
  return Boolean(decision.record) && WARNING_OUTCOMES.includes(decision.outcome);
}

/** Only a path on the same host: never `//elsewhere` or a full URL (no open redirect). */
export function safeReturnPath(value) {
  if (!value.startsWith("/") || value.startsWith("//") || value.startsWith("/\\")) return "/";
  if (/[\r\n\t]/.test(value)) return "/";
  return value;
}

/**
 * What the warning page says for `decision`: clauses most specific first, the choices.
 * `returnTo` is the path asked for (where Continue leads; made safe here); `accountSeen` says
 * whether the sensor saw the member of staff signed in to the platform.
 */
export function warningContent(bundle, decision, { returnTo = "/", accountSeen = false } = {}) {
  const settings = bundle.settings;
  const offered = continueOffered(decision);
  return {
    school: bundle.school.name,
    platform: decision.platform,
    platform_name: _platformName(bundle, decision.platform),
    outcome: decision.outcome,
    blocked: decision.outcome === "block",
    reason: decision.reason,
    clauses: _clauseTexts(bundle, decision.clauses),
    allow_continue: offered,
    reasons: offered ? settings.continue_reasons.map((r) => ({ id: r.id, label: r.label })) : [],
    allowance_minutes: Math.trunc(Number(settings.allowance_minutes)),
    granularity: Math.trunc(Number(settings.event_time_granularity_minutes)),
    account_seen: accountSeen,
    return_to: safeReturnPath(returnTo),
  };
}

function _reasonIds(bundle) {
  return new Set(bundle.settings.continue_reasons.map((r) => r.id));
}

function _platformName(bundle, platform) {
  const found = bundle.platforms.find((p) => p.id === platform);
  return found ? String(found.name) : String(platform || "");
}

/** The clauses in the decision's order (most specific first); an unknown id is left out. */
function _clauseTexts(bundle, ids) {
  const byId = new Map(bundle.clauses.map((c) => [c.id, c]));
  return ids
    .filter((i) => byId.has(i))
    .map((i) => {
      const c = byId.get(i);
      return { id: i, heading: c.heading ?? null, text: c.text ?? null, continuation: c.continuation ?? null };
    });
}
