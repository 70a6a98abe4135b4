// Acts held by the act rules (js/act-rules.js): a post, a message, a friend request or a
// reference that a page's script sent and a declarativeNetRequest rule blocked. The worker learns
// of it from webRequest.onErrorOccurred (net::ERR_BLOCKED_BY_CLIENT; observing is allowed in MV3),
// records it (held), and shows the member of staff the clause at once: a notification, and a
// notice in the page put there by a content script (js/act-notice.js) with the warning page's
// wording and choices. A form posted as a page is sent to the warning page instead.
//
// As with the warning page: the worker keeps a one-time nonce for the tab's hold; the notice, in
// that tab's top frame only, takes it once as its ticket and reports the choice with it. Holds
// (which keep the held URL on the device, in session storage) go when answered or after 30
// minutes. Continue grants the platform's allowance, the act rules are recomputed without that
// platform's, and the page's next attempt goes through.

import { heldByRules } from "./act-rules.js";
import { stopping } from "./allowances.js";
import { REQUEST_HEADERS } from "./navigation.js";
import { decide } from "./policy/decide.js";
import { Facts } from "./policy/facts.js";
import { continueAccepted, goingBackRecorded, warningContent } from "./policy/warning.js";
import { privacyLevel, randomHex } from "./sensor-event.js";
import { ACTS_KEY } from "./session-rules.js";
import { forgetStale } from "./session-expiry.js";

export const BLOCKED = "net::ERR_BLOCKED_BY_CLIENT";
const HOLD_MS = 30 * 60_000;
const CANDIDATE_MS = 60_000;
const holdKey = (tabId) => `held.${tabId}`;

/** The facts of a request as webRequest shows it (no body after the fact). */
export function requestFacts(details, at, body = null) {
  const url = Facts.fromUrl(details.url, { at });
  return new Facts({
    ...url,
    method: details.method,
    headers: REQUEST_HEADERS[details.type] ?? REQUEST_HEADERS.other,
    body,
  });
}

export class HeldActs {
  /** `ctx`: {ext, settings, policies, allowances, rules, recorder, warnings}. */
  constructor(ctx) {
    this._ctx = ctx;
    // Requests the act rules are about to block, by requestId: decided with their body in
    // onBeforeRequest, recorded when onErrorOccurred says they were held.
    this._candidates = new Map();
  }

  /** The act rules in force block this request (it will be recorded as held, not here). */
  async heldByRules(policy, decision, facts, type) {
    const held = (await this._ctx.ext.session.get([ACTS_KEY]))[ACTS_KEY] ?? [];
    return heldByRules(policy, held, { platform: decision.platform, ...facts, type });
  }

  /** onBeforeRequest saw a request the act rules hold: keep its decision (made with its body). */
  candidate(details, decision, at) {
    this._candidates.set(details.requestId, { decision, at });
    // If no error comes (the rules changed in between and it went out), record it as sent.
    const timer = setTimeout(() => {
      const left = this._candidates.get(details.requestId);
      if (!left) return;
      this._candidates.delete(details.requestId);
      if (left.decision.record) this._ctx.recorder.record(left.decision, left.at).catch(() => {});
    }, CANDIDATE_MS);
    timer?.unref?.(); // (Node's tests: a timer left never keeps the process)
  }

  /** webRequest.onErrorOccurred: a request held by the act rules gets its event and its notice. */
  async onError(details) {
    const candidate = this._candidates.get(details.requestId);
    this._candidates.delete(details.requestId);
    const { settings, policies, ext, allowances, recorder } = this._ctx;
    if (details.error !== BLOCKED) {
      if (candidate && candidate.decision.record) await recorder.record(candidate.decision, candidate.at);
      return;
    }
    if ((details.initiator ?? "").startsWith("chrome-extension:")) return;
    const at = candidate?.at ?? (await settings.now());
    const { policy } = await policies.current();
    let decision = candidate?.decision ?? null;
    if (decision === null) {
      let facts;
      try {
        facts = requestFacts(details, at);
      } catch {
        return;
      }
      const platformId = policy.classifier.platformFor(facts.host);
      if (platformId === null) return;
      const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
      decision = decide(new Facts({ ...facts, cookies: await ext.cookiesFor(details.url, names) }), policy);
    }
    // Blocked by another extension, or by a rule a moment stale: not ours to show.
    if (decision.action === "browse" || decision.action === "subresource") return;
    if ((await stopping(decision, at, allowances)) === null) return;
    if (decision.record) await recorder.record(decision, at, "none", null, { held: true });
    if (details.tabId === undefined || details.tabId < 0) return;
    if (details.type === "main_frame") {
      // A form posted as a page: the tab goes to the warning page, as a warned navigation does.
      await this._ctx.warnings.expectHeld(details.tabId, details.url, details.method, decision, at);
      await ext.updateTab(details.tabId, `${ext.extensionUrl("warning.html")}#${details.url}`);
      return;
    }
    await this.hold(details, decision, at);
  }

  /** Keep the hold for the tab, notify, and put the notice in the page. */
  async hold(details, decision, at) {
    const { ext, policies } = this._ctx;
    const { policy, bundle } = await policies.current();
    await this._forgetStale(at);
    const hold = { url: details.url, method: details.method, type: details.type, at, nonce: randomHex(16) };
    await ext.session.set({ [holdKey(details.tabId)]: hold });
    const content = warningContent(bundle, decision, { held: true });
    const title = content.heading;
    const first = content.clauses[0];
    const message = first ? `Clause ${first.id}: ${String(first.text ?? "").split("\n\n")[0]}` : decision.reason;
    await ext.notify(`held-${details.tabId}`, { title, message, contextMessage: policy.schoolName }).catch(() => {});
    // A frame's request: the notice goes in the tab's page (the top frame), where it is seen.
    await ext.injectNotice(details.tabId).catch(() => {});
  }

  /** Forget holds left unanswered (each keeps a URL). */
  async _forgetStale(at) {
    await forgetStale(this._ctx.ext.session, ["held.", "hticket."], HOLD_MS, at);
  }

  async _decide(hold, policy, at) {
    const facts = requestFacts(hold, at);
    const platformId = policy.classifier.platformFor(facts.host);
    if (platformId === null) return null;
    const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
    return decide(new Facts({ ...facts, cookies: await this._ctx.ext.cookiesFor(hold.url, names) }), policy);
  }

  /**
   * The notice (content script, top frame of tab `tabId`) asks what to show: the hold's content
   * and a ticket, once. Nothing is recorded here.
   */
  async open(tabId) {
    const { ext, settings, policies, allowances } = this._ctx;
    const at = await settings.now();
    const key = holdKey(tabId);
    const hold = (await ext.session.get([key]))[key];
    if (!hold || !(at - hold.at <= HOLD_MS)) return { none: true };
    await ext.session.remove(key); // one time only
    const { policy, bundle } = await policies.current();
    const config = await settings.get();
    const decision = await this._decide(hold, policy, at);
    if (decision === null || (await stopping(decision, at, allowances)) === null) return { none: true };
    const ticket = hold.nonce;
    await ext.session.set({ [`hticket.${ticket}`]: { ...hold, at, tab: tabId } });
    return {
      ticket,
      ...warningContent(bundle, decision, { held: true }),
      privacy_level: privacyLevel(bundle, config.privacyLevel),
      tell: Boolean(config.serviceUrl && config.token), // "Tell the Headteacher" can send
    };
  }

  async _ticket(id, tabId) {
    if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) return null;
    const key = `hticket.${id}`;
    const ticket = (await this._ctx.ext.session.get([key]))[key];
    if (!ticket || ticket.tab !== tabId || (await this._ctx.settings.now()) - ticket.at > HOLD_MS) return null;
    return { key, ...ticket };
  }

  /** "This is school business — continue": the platform's allowance; the page may send again. */
  async continueTo({ ticket: id, reason }, tabId) {
    const { ext, settings, policies, allowances, rules, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return { error: "This notice has expired. Try again to see it again." };
    const { policy, bundle } = await policies.current();
    const at = await settings.now();
    const decision = await this._decide(ticket, policy, at);
    if (!decision || !continueAccepted(bundle, decision, reason)) {
      return { error: "Continue is not available. Choose one of the reasons offered." };
    }
    const minutes = Number(policy.settings.allowance_minutes);
    await allowances.grant(decision.platform, at + minutes * 60_000);
    await ext.session.remove(ticket.key);
    await rules.refresh();
    if (decision.record) await recorder.record(decision, at, "continued", reason, { held: true });
    await ext.clearNotification(`held-${tabId}`).catch(() => {});
    return { continued: true, minutes };
  }

  /** "Go back": the act stays unsent, and the event says the warning was heeded. */
  async goBack({ ticket: id }, tabId) {
    const { ext, settings, policies, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return {};
    const { policy } = await policies.current();
    const at = await settings.now();
    const decision = await this._decide(ticket, policy, at);
    await ext.session.remove(ticket.key);
    if (decision && goingBackRecorded(decision)) await recorder.record(decision, at, "went_back", null, { held: true });
    await ext.clearNotification(`held-${tabId}`).catch(() => {});
    return {};
  }
}
