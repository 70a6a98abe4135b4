// policy/warning.py: the warning page's content and its Continue / Go back rules, once for every
// sensor (tests/vectors/warning.json holds the cases both languages pass). Pure: the bundle and a
// Decision in, plain JSON out. What only the extension adds (its ticket, the privacy level) is
// added by js/warning-flow.js, not here.

import { ACTS, ACT_NOUNS, SEEN, WARNING_OUTCOMES } from "./generated/warning-vocabulary.js";
import { kindOf, reasonsFor } from "./reasons.js";

export { ACTS, ACT_NOUNS, SEEN, WARNING_OUTCOMES };

/**
 * A warned or blocked act is held: it is not sent, and the member of staff sees the clause
 * (Continue, where the rule offers it, opens that kind of act on that platform).
 */
export function actHeld(decision) {
  return WARNING_OUTCOMES.includes(decision.outcome) && ACTS.includes(decision.action);
}

/**
 * What the member of staff sees of `decision` through the proxy, with no allowance (one of SEEN):
 * the warning or blocked page at once on a top-level navigation; for an act sent by the page's own
 * script, a 4xx to the script and the warning on their next page of that platform; a blocked
 * request that is not an act gets a plain 403 and nothing is shown; anything else passes.
 */
export function whatStaffSee(decision, navigation) {
  const blocked = decision.outcome === "block";
  if (!WARNING_OUTCOMES.includes(decision.outcome)) return "nothing";
  if (navigation) return blocked ? "blocked_page" : "warning_page";
  if (actHeld(decision)) return blocked ? "next_page_blocked" : "next_page_warning";
  return blocked ? "refused" : "nothing";
}

/** Continue is offered (and an allowance honoured) only on a warning whose rule allows it. */
export function continueOffered(decision) {
  return decision.outcome === "warn" && Boolean(decision.allow_continue);
}

/** What an event never holds, and whose promise that is (clause 9 disclaims privacy). */
export const NOT_RECORDED =
  "Not recorded: the address of the page, anything you wrote or read, your device's address, " +
  "or your account. That is the school's promise in its privacy notice and its data " +
  "protection impact assessment (DPIA), not clause 9 of the policy: clause 9 keeps the " +
  "school's right to monitor more.";

/**
 * Continue goes through only where it is offered and with one of the reasons that continue this
 * kind of request (a page view, or this act).
 */
export function continueAccepted(bundle, decision, reason) {
  return continueOffered(decision) && reasons(bundle, decision).some((r) => r.id === reason);
}

/** The reasons that continue `decision`'s kind of request ({id, label}), where Continue is offered. */
export function reasons(bundle, decision) {
  if (!continueOffered(decision)) return [];
  return reasonsFor(bundle.settings.continue_reasons, kindOf(decision.action, ACTS), "continue");
}

/**
 * The reasons that, for `decision`'s kind of request, leave it unsent and open Tell the
 * Headteacher instead ({id, label, tell}: `tell` is what the report is about).
 */
export function tellReasons(bundle, decision) {
  if (!continueOffered(decision)) return [];
  return reasonsFor(bundle.settings.continue_reasons, kindOf(decision.action, ACTS), "tell");
}

/** What the report is about when `reason` tells the Headteacher instead; else null. */
export function tellInstead(bundle, decision, reason) {
  return tellReasons(bundle, decision).find((r) => r.id === reason)?.tell ?? null;
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
export function warningContent(bundle, decision, { returnTo = "/", accountSeen = false, held = false } = {}) {
  const settings = bundle.settings;
  const continuing = reasons(bundle, decision);
  const offered = continuing.length > 0;
  const name = _platformName(bundle, decision.platform);
  const blocked = decision.outcome === "block";
  const minutes = Math.trunc(Number(settings.allowance_minutes));
  const act = ACT_NOUNS[decision.action] ?? null;
  const isHeld = Boolean(held) && actHeld(decision);
  let heading;
  let nextStep = "";
  if (isHeld) {
    heading = `Your ${act} on ${name} was not sent`;
    if (offered) {
      nextStep =
        `If it is school business, choose the reason below and continue, then send it again: ` +
        `for ${minutes} minutes each ${act} you send on ${name} from this device goes through ` +
        `(anything else you send is warned on its own).`;
    } else if (blocked) {
      nextStep = `The school's policy does not permit this on ${name}; it cannot be sent.`;
    } else {
      nextStep = "It cannot be sent from here.";
    }
  } else {
    heading = blocked ? `${name} is not available here` : `Before you continue to ${name}`;
  }
  return {
    school: bundle.school.name,
    platform: decision.platform,
    platform_name: name,
    outcome: decision.outcome,
    blocked,
    held: isHeld,
    act,
    heading,
    next_step: nextStep,
    reason: decision.reason.replace(` (rule ${decision.rule})`, ""), // no id for staff
    clauses: _clauseTexts(bundle, decision),
    allow_continue: offered,
    reasons: continuing,
    tell_reasons: tellReasons(bundle, decision),
    allowance_minutes: minutes,
    granularity: Math.trunc(Number(settings.event_time_granularity_minutes)),
    not_recorded: NOT_RECORDED,
    account_seen: accountSeen,
    return_to: safeReturnPath(returnTo),
  };
}

function _platformName(bundle, platform) {
  const found = bundle.platforms.find((p) => p.id === platform);
  return found ? String(found.name) : String(platform || "");
}

/**
 * The clauses that may apply, each led by the condition it rests on ("If this person is a pupil, a
 * parent or a carer, clause 8.1 says:"), then those that apply (`lead` null); each in the rule's
 * order, most specific first. An unknown id is left out.
 */
function _clauseTexts(bundle, decision) {
  const byId = new Map(bundle.clauses.map((c) => [c.id, c]));
  const condition = mayApplyCondition(bundle, decision.rule);
  const leads = [
    ...(decision.may_apply ?? []).map((i) => [
      i,
      condition ? `If ${condition}, clause ${i} says:` : `Clause ${i} may apply; it says:`,
    ]),
    ...decision.clauses.map((i) => [i, null]),
  ];
  return leads
    .filter(([i]) => byId.has(i))
    .map(([i, lead]) => {
      const c = byId.get(i);
      return {
        id: i,
        heading: c.heading ?? null,
        text: c.text ?? null,
        continuation: c.continuation ?? null,
        may_apply: lead !== null,
        lead,
      };
    });
}

/** The rule's condition for its clauses that only may apply (rules.yaml `may_apply_if`). */
export function mayApplyCondition(bundle, rule) {
  const found = bundle.rules.find((r) => r.id === rule);
  return found ? (found.may_apply_if ?? null) : null;
}
