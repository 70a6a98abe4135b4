// policy/respond.py: what becomes of a request, decided once for both sensors (the Response).
// decide() says what the policy thinks of a request (the Decision); respond() says what the
// sensor does about it for the member of staff at the screen: send the request on, hold the act,
// refuse it, or decline a prefetch; which page to show; whether to record the event; and when
// the page's ticket runs out. The worker (js/worker.js and its helpers) only carries a Response
// out; tests/vectors/responses.json holds the cases both twins pass. Pure: the time is an
// argument, in epoch SECONDS as in Python (the Response's fields, ticket_expires among them, are
// the same JSON in both languages), and the fields keep their Python names.
//
// The rules (the proxy's, which the extension follows too):
// - a warned or blocked page opened at the top level gets the warning (or blocked) page;
// - a warned or blocked act (actHeld) is held, never sent: posted as a form by the page itself it
//   gets the warning at once; sent by the page's own script it is refused, and its warning waits
//   for the next page of that platform (HELD_NOTICE_SECONDS) where the sensor cannot show it at
//   once; another site's script forging it is refused only;
// - Continue on a page's warning lets that platform's pages open for the allowance; only Continue
//   on a held act opens acts on that platform, and only that kind of act (then the act, sent
//   again, goes through: the `continued` event stands for it, nothing more is recorded); any
//   other kind is held and warned on its own, with its own clause and its own event;
// - a reason that tells the Headteacher instead (tellInstead) opens nothing: the act stays
//   unsent, Go back is recorded, and the sensor opens Tell the Headteacher;
// - a prefetch or prerender is never warned nor recorded: one of a page that would be warned is
//   declined, so the page is asked for again, and warned, when it is opened.

import { PREFETCH, decide, isPrefetch, isTopLevelNavigation } from "./decide.js";
import { Facts } from "./facts.js";
import { HELD_NOTICE_SECONDS, TICKET_SECONDS } from "./generated/respond-timings.js";
import { OWN_SITE } from "./generated/respond-vocabulary.js";
import { WARNING_OUTCOMES, actHeld, continueAccepted, continueOffered, goingBackRecorded, tellInstead } from "./warning.js";

// The timings and value lists are Python's (policy/respond.py), written by scripts/generate_js.py
// (never retyped): TICKET_SECONDS, how long the warning page's ticket (its Continue, Go back and
// Register) can be used; HELD_NOTICE_SECONDS, how long a held act's warning waits for the member
// of staff's next page of that platform.
export { HELD_NOTICE_SECONDS, TICKET_SECONDS };
// FATES (forward: sent on; hold: a held act, never sent; refuse: not sent, answered by the
// sensor; decline_prefetch: the browser's own prefetch turned down, so the page is asked for
// again), PAGES (warning / block: the page about this request; held_notice: the page about the
// device's pending held act; none: no page), NOTICES (for a held act, when its warning is shown:
// now, on the next page, never; none: not held), RETURN_TO, and OWN_SITE (Sec-Fetch-Site of a
// script's act whose warning may come up on the next page).
export { FATES, NOTICES, OWN_SITE, PAGES, RETURN_TO } from "./generated/respond-vocabulary.js";

/** How long Continue lets a platform open (pages; that kind of act too after a held act's Continue). */
export function allowanceSeconds(settings) {
  return Math.trunc(Number(settings.allowance_minutes)) * 60;
}

/** A Response: what the sensor does with one request (the same JSON as Python's contract()). */
function response({ request, page = "none", record = false, notice = "none", return_to = "request", ticket_expires = null }) {
  return Object.freeze({ request, page, record, notice, return_to, ticket_expires });
}

/**
 * The Decision and the Request ({navigation, method, sec_fetch_site, prefetch}) of one request,
 * from one Facts. A prefetch or prerender is decided as the page it fetches would be when opened
 * (that is what respond() declines).
 */
export function decideRequest(facts, policy) {
  let decision = decide(facts, policy);
  const prefetch = decision.rule === PREFETCH && isPrefetch(facts.headers);
  if (prefetch) {
    const headers = Object.fromEntries(Object.entries(facts.headers).filter(([k]) => k !== "sec-purpose"));
    decision = decide(new Facts({ ...facts, headers }), policy);
  }
  const request = {
    navigation: isTopLevelNavigation(facts.method, facts.headers),
    method: facts.method,
    sec_fetch_site: facts.headers["sec-fetch-site"] ?? null,
    prefetch,
  };
  return [decision, request];
}

/**
 * What the sensor does with a request the policy decided `decision` about. `request`:
 * {navigation, method, sec_fetch_site, prefetch}; `device`: what the sensor keeps about this
 * device on this platform, {pages_allowed_until, acts_allowed_until, pending_held_at} (epoch
 * seconds or null; acts_allowed_until by kind of act, {message: seconds, ...}); `now`: epoch
 * seconds.
 */
export function respond(decision, request, device, now) {
  const { navigation = false, method = "GET", sec_fetch_site: site = null, prefetch = false } = request;
  const warned = WARNING_OUTCOMES.includes(decision.outcome);
  const offered = continueOffered(decision);
  const pagesAllowed = _until(device.pages_allowed_until, now) && offered;
  if (prefetch) return response({ request: warned && !pagesAllowed ? "decline_prefetch" : "forward" });
  const held = actHeld(decision);
  if (held && offered && _until((device.acts_allowed_until ?? {})[decision.action], now)) {
    return response({ request: "forward" }); // Continue opened this act: `continued` stands for it
  }
  const ticket = Math.trunc(now) + TICKET_SECONDS;
  if (navigation && !held && _pending(device, now)) {
    // the held act's warning, on this next page (the act was recorded when it was held)
    return response({ request: "refuse", page: "held_notice", ticket_expires: ticket });
  }
  const page = decision.outcome === "block" ? "block" : "warning";
  if (warned && navigation) {
    if (!held && pagesAllowed) return response({ request: "forward" });
    if (!held) return response({ request: "refuse", page, record: decision.record, ticket_expires: ticket });
    const posted = method !== "GET" && method !== "HEAD"; // a form the page posted: back there
    return response({
      request: "hold",
      page,
      record: decision.record,
      notice: "now",
      return_to: posted ? "referrer" : "request",
      ticket_expires: ticket,
    });
  }
  if (held) {
    // sent by a script: refused now, the warning on the next page unless a forgery
    const ownSite = site === null || OWN_SITE.includes(site);
    return response({ request: "hold", record: decision.record, notice: ownSite ? "next_page" : "never" });
  }
  if (decision.outcome === "block") return response({ request: "refuse", record: decision.record });
  return response({ request: "forward", record: decision.record });
}

function _until(until, now) {
  return until !== null && until !== undefined && now < until;
}

function _pending(device, now) {
  const heldAt = device.pending_held_at;
  return heldAt !== null && heldAt !== undefined && now - heldAt <= HELD_NOTICE_SECONDS;
}

/** An Answer: what the warning's Continue or Go back does (the same JSON as Python's contract()). */
function answer({ accepted, record, pages_allowed_until = null, acts_allowed_until = null, act = null, tell = null }) {
  return Object.freeze({ accepted, record, pages_allowed_until, acts_allowed_until, act, tell });
}

/**
 * Continue with `reason` on the warning about `decision` (`held`: about a held act). A reason
 * that tells the Headteacher instead opens nothing: it is answered as Go back is, and the sensor
 * opens the Tell form about `tell`. Continue on a held act opens that one kind of act (`act`).
 */
export function answerContinue(bundle, decision, reason, { held, now }) {
  const told = tellInstead(bundle, decision, reason);
  if (told !== null) return answer({ accepted: false, record: goingBackRecorded(decision), tell: told });
  if (!continueAccepted(bundle, decision, reason)) return answer({ accepted: false, record: false });
  const until = Math.trunc(now + allowanceSeconds(bundle.settings));
  const opensAct = Boolean(held) && actHeld(decision);
  return answer({
    accepted: true,
    record: true,
    pages_allowed_until: until,
    acts_allowed_until: opensAct ? until : null,
    act: opensAct ? decision.action : null,
  });
}

/** Go back on the warning about `decision`: recorded as `went_back` where it was recorded. */
export function answerBack(decision) {
  return answer({ accepted: true, record: goingBackRecorded(decision) });
}
