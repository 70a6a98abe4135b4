// Acts held by the act rules (js/act-rules.js): a post, a message, a friend request or a
// reference that a page's script sent and a declarativeNetRequest rule blocked. The worker learns
// of it from webRequest.onErrorOccurred (net::ERR_BLOCKED_BY_CLIENT; observing is allowed in MV3),
// records it (held), and shows the member of staff the clause at once: a notification, and a
// notice in the page put there by a content script (js/act-notice.js) with the warning page's
// wording and choices. A form posted as a page is sent to the warning page instead.
//
// What is done is what js/policy/respond.js says; this module only carries it out. As with the
// warning page: the worker keeps a one-time nonce for the tab's hold (with the Decision, never the
// held URL); the notice, in that tab's top frame only, takes it once (within the held-act notice
// window, HELD_NOTICE_SECONDS) as its ticket and reports the choice with it (within the ticket's
// lifetime, TICKET_SECONDS). Continue on a held act opens the platform's pages and that kind of
// act for the allowance, the act rules are recomputed without that platform's rules for that
// kind, and the page's next attempt goes through, recorded no more (the `continued` event stands
// for it); any other kind of act is still held, with its own notice and event. A reason that
// tells the Headteacher instead (the 8.1 and 8.4 reasons on an act, Ask the Headteacher first on
// a post) opens nothing: the act stays unsent, Go back is recorded, and Tell the Headteacher
// opens in a new tab with the platform and what it is about chosen.

import { heldByRules } from "./act-rules.js";
import { requestHeaders } from "./navigation.js";
import { Facts } from "./policy/facts.js";
import { HELD_NOTICE_SECONDS, TICKET_SECONDS, allowanceSeconds, answerBack, answerContinue, decideRequest } from "./policy/respond.js";
import { warningContent } from "./policy/warning.js";
import { privacyLevel, randomHex } from "./sensor-event.js";
import { ACTS_KEY } from "./session-rules.js";
import { forgetStale } from "./session-expiry.js";

export const BLOCKED = "net::ERR_BLOCKED_BY_CLIENT";
/** How long a hold waits for its notice to ask for it (the held-act notice window). */
const NOTICE_MS = HELD_NOTICE_SECONDS * 1000;
/** How long the notice's ticket (its Continue and Go back) can be used. */
const TICKET_MS = TICKET_SECONDS * 1000;
const CANDIDATE_MS = 60_000;
const holdKey = (tabId) => `held.${tabId}`;

/** The facts of a request as webRequest shows it (no body after the fact). */
function requestFacts(details, policy, at, seen = null) {
  const url = Facts.fromUrl(details.url, { at });
  return new Facts({ ...url, method: details.method, headers: requestHeaders(details, policy), ...seen });
}

export class HeldActs {
  /** `ctx`: {ext, settings, policies, allowances, rules, recorder, warnings}. */
  constructor(ctx) {
    this._ctx = ctx;
    // Requests the act rules are about to block, by requestId: decided with their body in
    // onBeforeRequest, recorded when onErrorOccurred says they were held.
    this._candidates = new Map();
  }

  /** The act rules in force, or the blocking listener (js/blocking-acts.js), block this request
   * (it will be recorded as held, not here). */
  async heldByRules(policy, decision, facts, type, requestId = null) {
    if (requestId !== null && this._ctx.blocking?.cancelled(requestId)) return true;
    const held = (await this._ctx.ext.session.get([ACTS_KEY]))[ACTS_KEY] ?? [];
    return heldByRules(policy, held, { platform: decision.platform, ...facts, type });
  }

  /** onBeforeRequest saw a request the act rules hold: keep its decision (made with its body). */
  candidate(details, decision, request, response, at) {
    this._candidates.set(details.requestId, { decision, request, response, at });
    // If no error comes (the rules changed in between and it went out), record it as sent.
    const timer = setTimeout(() => {
      const left = this._candidates.get(details.requestId);
      if (!left) return;
      this._candidates.delete(details.requestId);
      if (left.response.record) this._ctx.recorder.record(left.decision, left.at).catch(() => {});
    }, CANDIDATE_MS);
    timer?.unref?.(); // (Node's tests: a timer left never keeps the process)
  }

  /** The Decision and Request of a request webRequest shows, afresh (no body); null if not a platform. */
  async _decide(details, policy, at, seen = null) {
    let facts;
    try {
      facts = requestFacts(details, policy, at, seen);
    } catch {
      return null;
    }
    const platformId = policy.classifier.platformFor(facts.host);
    if (platformId === null) return null;
    const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
    return decideRequest(new Facts({ ...facts, cookies: await this._ctx.ext.cookiesFor(details.url, names) }), policy);
  }

  /**
   * webRequest.onErrorOccurred: a request held by the act rules is carried out as respond() says:
   * recorded as held, and its warning shown now (a form posted as a page: the warning page), at
   * once in the page (a page's script: the notice, where the proxy must wait for the next page),
   * or never (another site's script forged it: staff did not send it).
   */
  async onError(details) {
    const candidate = this._candidates.get(details.requestId);
    this._candidates.delete(details.requestId);
    const seen = this._ctx.blocking?.take(details.requestId) ?? null; // the blocking listener's
    const { settings, policies, ext, allowances, recorder } = this._ctx;
    if (details.error !== BLOCKED) {
      if (candidate && candidate.response.record) await recorder.record(candidate.decision, candidate.at);
      return;
    }
    if ((details.initiator ?? "").startsWith("chrome-extension:")) return;
    const at = candidate?.at ?? (await settings.now());
    const { policy } = await policies.current();
    const decided = candidate ? [candidate.decision, candidate.request] : await this._decide(details, policy, at, seen);
    if (decided === null) return;
    const [decision, request] = decided;
    const response = await allowances.respond(decision, request, at);
    // Not an act held now (a read blocked by another extension, a rule a moment stale): not ours.
    if (response.request !== "hold") return;
    if (response.record) await recorder.record(decision, at, "none", null, { held: true });
    if (details.tabId === undefined || details.tabId < 0) return;
    if (response.notice === "now") {
      // A form posted as a page: the tab goes to the warning page, as a warned navigation does.
      await this._ctx.warnings.expectHeld(details.tabId, details.url, details.method, decision, at);
      await ext.updateTab(details.tabId, `${ext.extensionUrl("warning.html")}#${details.url}`);
      return;
    }
    if (response.notice === "next_page") await this.hold(details, decision, request, at);
  }

  /** Keep the hold for the tab (its Decision, not its URL), notify, and put the notice in the page. */
  async hold(details, decision, request, at) {
    const { ext, policies } = this._ctx;
    const { policy, bundle } = await policies.current();
    await this._forgetStale(at);
    await ext.session.set({ [holdKey(details.tabId)]: { decision, request, at, nonce: randomHex(16) } });
    const content = warningContent(bundle, decision, { held: true });
    const title = content.heading;
    const first = content.clauses[0];
    const lead = first && first.lead ? first.lead : first ? `Clause ${first.id}:` : "";
    const message = first ? `${lead} ${String(first.text ?? "").split("\n\n")[0]}` : decision.reason;
    await ext.notify(`held-${details.tabId}`, { title, message, contextMessage: policy.schoolName }).catch(() => {});
    // A frame's request: the notice goes in the tab's page (the top frame), where it is seen.
    await ext.injectNotice(details.tabId).catch(() => {});
  }

  /** Forget holds and tickets left unanswered. */
  async _forgetStale(at) {
    await forgetStale(this._ctx.ext.session, ["held."], NOTICE_MS, at);
    await forgetStale(this._ctx.ext.session, ["hticket."], TICKET_MS, at);
  }

  /**
   * The notice (content script, top frame of tab `tabId`) asks what to show: the hold's content
   * and a ticket, once, unless an allowance opened the act meanwhile. Nothing is recorded here.
   */
  async open(tabId) {
    const { ext, settings, policies, allowances } = this._ctx;
    const at = await settings.now();
    const key = holdKey(tabId);
    const hold = (await ext.session.get([key]))[key];
    if (!hold || !(at - hold.at <= NOTICE_MS)) return { none: true };
    await ext.session.remove(key); // one time only
    if ((await allowances.respond(hold.decision, hold.request, at)).request !== "hold") return { none: true };
    const { bundle } = await policies.current();
    const config = await settings.get();
    const ticket = hold.nonce;
    await ext.session.set({ [`hticket.${ticket}`]: { decision: hold.decision, at, tab: tabId } });
    return {
      ticket,
      ...warningContent(bundle, hold.decision, { held: true }),
      privacy_level: privacyLevel(bundle, config.privacyLevel),
      tell: Boolean(config.serviceUrl && config.token), // "Tell the Headteacher" can send
    };
  }

  async _ticket(id, tabId) {
    if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) return null;
    const key = `hticket.${id}`;
    const ticket = (await this._ctx.ext.session.get([key]))[key];
    if (!ticket || ticket.tab !== tabId || (await this._ctx.settings.now()) - ticket.at > TICKET_MS) return null;
    return { key, ...ticket };
  }

  /** "This is school business — continue": the platform's pages and this kind of act open for
   * the allowance (answerContinue about a held act); the page may send again. A reason that tells
   * the Headteacher instead leaves the act unsent and opens the Tell form ({told: true}). */
  async continueTo({ ticket: id, reason }, tabId) {
    const { ext, settings, policies, allowances, rules, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return { error: "This notice has expired. Try again to see it again." };
    const { bundle } = await policies.current();
    const at = await settings.now();
    const { decision } = ticket;
    const answer = answerContinue(bundle, decision, reason, { held: true, now: at / 1000 });
    if (answer.tell !== null) {
      await ext.session.remove(ticket.key);
      if (answer.record) await recorder.record(decision, at, "went_back", null, { held: true });
      await ext.clearNotification(`held-${tabId}`).catch(() => {});
      await this._ctx.openTell(decision.platform, answer.tell, { always: true });
      return { told: true };
    }
    if (!answer.accepted) return { error: "Continue is not available. Choose one of the reasons offered." };
    await allowances.grant(decision.platform, answer);
    await ext.session.remove(ticket.key);
    await rules.refresh();
    if (answer.record) await recorder.record(decision, at, "continued", reason, { held: true });
    await ext.clearNotification(`held-${tabId}`).catch(() => {});
    return { continued: true, minutes: allowanceSeconds(bundle.settings) / 60 };
  }

  /** "Go back": the act stays unsent, and the event says the warning was heeded. */
  async goBack({ ticket: id }, tabId) {
    const { ext, settings, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return {};
    const at = await settings.now();
    await ext.session.remove(ticket.key);
    if (answerBack(ticket.decision).record) await recorder.record(ticket.decision, at, "went_back", null, { held: true });
    await ext.clearNotification(`held-${tabId}`).catch(() => {});
    return {};
  }
}
