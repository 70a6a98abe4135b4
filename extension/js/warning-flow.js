// The warning page's side of the worker: what the page shows for a URL, and what Continue, Go
// back and "Register this as a school account" do. Each step decides the URL afresh, so a page
// can never continue to something the policy no longer lets it.
//
// The warning is recorded by the worker when it sends a tab's navigation to the warning page
// (`expect`), with a one-time nonce kept for that tab. The warning page, in that tab's top frame
// only, takes the nonce once (`open`) as its ticket, and reports the choice with it: a page
// loaded any other way (a frame, another site's window, a reload) records nothing and gets
// nothing. Tickets and nonces (which hold the warned URL) live in chrome.storage.session, are
// removed when the warning is answered, and any left unanswered go after 30 minutes.

import { stopping } from "./allowances.js";
import { NAVIGATION, decideNavigation, signedInAccount } from "./navigation-rules.js";
import { decide } from "./policy/decide.js";
import { Facts } from "./policy/facts.js";
import { WARNING_OUTCOMES, continueAccepted, goingBackRecorded, warningContent } from "./policy/warning.js";
import { privacyLevel, randomHex } from "./sensor-event.js";
import { forgetStale } from "./session-expiry.js";

const TICKET_MS = 30 * 60_000;
const PASS_THROUGH_MS = 10_000;
const PENDING_MS = 30_000; // a navigation seen twice (before it starts, when it commits) is one
const pendingKey = (tabId) => `pending.${tabId}`;
/** The same page (a redirect rule's URL carries no #fragment; webNavigation's may). */
const samePage = (a, b) => String(a).split("#")[0] === String(b).split("#")[0];

export class WarningFlow {
  /**
   * `ctx`: {ext (session storage, cookiesFor), settings, policies, allowances, rules, recorder,
   * fetch}.
   */
  constructor(ctx) {
    this._ctx = ctx;
  }

  async _ticket(id, tabId) {
    if (typeof id !== "string" || !/^[0-9a-f]{32}$/.test(id)) return null;
    const key = `ticket.${id}`;
    const ticket = (await this._ctx.ext.session.get([key]))[key];
    if (!ticket || ticket.tab !== tabId || (await this._ctx.settings.now()) - ticket.at > TICKET_MS) return null;
    return { key, ...ticket };
  }

  /** Forget tickets and nonces left unanswered (each holds a warned URL). */
  async _forgetStale(at) {
    await forgetStale(this._ctx.ext.session, ["ticket.", "pending."], TICKET_MS, at);
  }

  /**
   * The worker is sending tab `tabId`'s navigation to `url` to the warning page: record the
   * warning now (once per navigation) and keep a one-time nonce for the page that tab will show.
   */
  async expect(tabId, url, decision, at) {
    const { ext, recorder } = this._ctx;
    const key = pendingKey(tabId);
    const old = (await ext.session.get([key]))[key];
    if (old && samePage(old.url, url) && at - old.at >= 0 && at - old.at < PENDING_MS) return;
    await ext.session.set({ [key]: { url, at, nonce: randomHex(16) } });
    if (decision.record) await recorder.record(decision, at);
  }

  /**
   * A form posted as a page was held by an act rule (and recorded, held, by the worker): the tab
   * is sent to the warning page, which decides the post (its method) rather than a page load.
   */
  async expectHeld(tabId, url, method, decision, at) {
    await this._ctx.ext.session.set({ [pendingKey(tabId)]: { url, method, at, nonce: randomHex(16) } });
  }

  /** The navigation to `url` (a GET, or the method of a held form post) decided afresh. */
  async _decide(url, policy, at, method = "GET") {
    if (method === "GET") return decideNavigation(url, policy, at, this._ctx.ext.cookiesFor);
    const facts = Facts.fromUrl(url, { method, headers: NAVIGATION, at });
    const platformId = policy.classifier.platformFor(facts.host);
    if (platformId === null) return null;
    const names = policy.platforms.get(platformId).accountCookies.map(([name]) => name);
    return decide(new Facts({ ...facts, cookies: await this._ctx.ext.cookiesFor(url, names) }), policy);
  }

  /**
   * The warning page opened for `url` in tab `tabId`: decide it afresh and, with the nonce the
   * worker kept for this tab's navigation, give the page its content (policy/warning.js, as the
   * proxy's page has it) and a ticket. Nothing is recorded here.
   */
  async open({ url }, tabId) {
    const { ext, settings, policies, allowances, rules } = this._ctx;
    const at = await settings.now();
    await this._forgetStale(at);
    const { policy, bundle } = await policies.current();
    const config = await settings.get();
    const key = pendingKey(tabId);
    const pending = (await ext.session.get([key]))[key];
    if (pending) await ext.session.remove(key); // one time only
    const method = pending && samePage(pending.url, url) ? (pending.method ?? "GET") : "GET";
    let decision = null;
    try {
      decision = await this._decide(url, policy, at, method);
    } catch {
      decision = null;
    }
    if (decision === null || !WARNING_OUTCOMES.includes(decision.outcome)) {
      // Nothing to warn about (any more): let the page through, and keep the rules from looping.
      if (decision !== null) await allowances.grant(decision.platform, at + PASS_THROUGH_MS);
      await rules.refresh();
      return { proceed: true, school: policy.schoolName };
    }
    if ((await stopping(decision, at, allowances)) === null) {
      await rules.refresh();
      return { proceed: true, school: policy.schoolName };
    }
    if (!pending || !samePage(pending.url, url) || !(at - pending.at <= TICKET_MS)) {
      return { expired: true, school: policy.schoolName };
    }
    const ticket = pending.nonce;
    await ext.session.set({ [`ticket.${ticket}`]: { url, method, at, tab: tabId } });
    const { path, query } = Facts.fromUrl(url, { at });
    const seen = await signedInAccount(url, policy, ext.cookiesFor);
    return {
      ticket,
      ...warningContent(bundle, decision, {
        returnTo: query ? `${path}?${query}` : path,
        accountSeen: Boolean(seen?.accountId),
        held: method !== "GET",
      }),
      privacy_level: privacyLevel(bundle, config.privacyLevel),
      tell: Boolean(config.serviceUrl && config.token), // "Tell the Headteacher" can send
    };
  }

  /** Continue with a reason: an allowance for the platform, and the event says why. */
  async continueTo({ ticket: id, reason }, tabId) {
    const { ext, settings, policies, allowances, rules, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return { error: "This warning has expired. Reload the page you wanted to see." };
    const { policy, bundle } = await policies.current();
    const at = await settings.now();
    const decision = await this._decide(ticket.url, policy, at, ticket.method ?? "GET");
    if (!decision || !continueAccepted(bundle, decision, reason)) {
      return { error: "Continue is not available. Choose one of the reasons offered." };
    }
    const minutes = Number(policy.settings.allowance_minutes);
    await allowances.grant(decision.platform, at + minutes * 60_000);
    await ext.session.remove(ticket.key);
    await rules.refresh();
    const held = (ticket.method ?? "GET") !== "GET";
    if (decision.record) await recorder.record(decision, at, "continued", reason, { held });
    return { url: ticket.url };
  }

  /** Go back: the warning was heeded, and the event says so. */
  async goBack({ ticket: id }, tabId) {
    const { ext, settings, policies, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return {};
    const { policy } = await policies.current();
    const at = await settings.now();
    const method = ticket.method ?? "GET";
    const decision = await this._decide(ticket.url, policy, at, method);
    await ext.session.remove(ticket.key);
    if (decision && goingBackRecorded(decision)) {
      await recorder.record(decision, at, "went_back", null, { held: method !== "GET" });
    }
    return {};
  }

  /**
   * "Register this as a school account": the only way a personal account id ever leaves the
   * device, on purpose, asked for by the member of staff (POST /api/v1/account-requests).
   */
  async register({ ticket: id, label }, tabId) {
    const { ext, settings, policies, fetch } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return { heading: "This warning has expired", message: "Reload the page you wanted to see." };
    const name = String(label ?? "").split(/\s+/).filter(Boolean).join(" ").slice(0, 200);
    if (!name) return { heading: "A name is needed", message: "Give the account a name." };
    const { policy } = await policies.current();
    const seen = await signedInAccount(ticket.url, policy, ext.cookiesFor);
    if (!seen || !seen.accountId) {
      return { heading: "No account to register", message: "You are not signed in to this platform in this browser." };
    }
    const config = await settings.get();
    if (!config.serviceUrl || !config.token) {
      return {
        heading: "Not sent",
        message: "This browser is not connected to a ClauseWarden service; ask the IT admin to add the account.",
      };
    }
    try {
      const response = await fetch(`${config.serviceUrl.replace(/\/+$/, "")}/api/v1/account-requests`, {
        method: "POST",
        headers: { Authorization: `Bearer ${config.token}`, "Content-Type": "application/json" },
        body: JSON.stringify({ platform: seen.platform, account_id: seen.accountId, label: name, kind: seen.kind }),
      });
      if (response.status !== 202 && response.status !== 200) throw new Error(`answered ${response.status}`);
    } catch {
      return { heading: "Not sent", message: "The ClauseWarden service could not be reached; try later." };
    }
    return { heading: "Request sent", message: "The headteacher will be asked to approve this account.", sent: true };
  }
}
