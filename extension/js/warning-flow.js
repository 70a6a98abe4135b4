// The warning page's side of the worker: what the page shows for a URL, and what Continue, Go
// back and "Register this as a school account" do. Each step decides the URL afresh, so a page
// can never continue to something the policy no longer lets it.
//
// The page holds a ticket (in chrome.storage.session for 30 minutes), never a decision.

import { decideNavigation, signedInAccount, stopping } from "./navigation-rules.js";
import { Facts } from "./policy/facts.js";
import { WARNING_OUTCOMES, continueAccepted, goingBackRecorded, warningContent } from "./policy/warning.js";
import { privacyLevel, randomHex } from "./sensor-event.js";

const TICKET_MS = 30 * 60_000;
const PASS_THROUGH_MS = 10_000;

export class WarningFlow {
  /**
   * `ctx`: {ext (session storage, cookiesFor), settings, policies, allowances, rules, recorder,
   * fetch}.
   */
  constructor(ctx) {
    this._ctx = ctx;
  }

  async _ticket(id) {
    const key = `ticket.${id}`;
    const ticket = (await this._ctx.ext.session.get([key]))[key];
    if (!ticket || (await this._ctx.settings.now()) - ticket.at > TICKET_MS) return null;
    return { key, ...ticket };
  }

  _decide(url, policy, at) {
    return decideNavigation(url, policy, at, this._ctx.ext.cookiesFor);
  }

  /**
   * The warning page opened for `url`: decide it afresh, record the warning, give the page its
   * content (policy/warning.js, as the proxy's page has it) and a ticket.
   */
  async open({ url }) {
    const { ext, settings, policies, allowances, rules, recorder } = this._ctx;
    const at = await settings.now();
    const { policy, bundle } = await policies.current();
    const config = await settings.get();
    let decision = null;
    try {
      decision = await this._decide(url, policy, at);
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
    const ticket = randomHex(16);
    await ext.session.set({ [`ticket.${ticket}`]: { url, at } });
    if (decision.record) await recorder.record(decision, at);
    const { path, query } = Facts.fromUrl(url, { at });
    const seen = await signedInAccount(url, policy, ext.cookiesFor);
    return {
      ticket,
      ...warningContent(bundle, decision, {
        returnTo: query ? `${path}?${query}` : path,
        accountSeen: Boolean(seen?.accountId),
      }),
      privacy_level: privacyLevel(bundle, config.privacyLevel),
    };
  }

  /** Continue with a reason: an allowance for the platform, and the event says why. */
  async continueTo({ ticket: id, reason }) {
    const { ext, settings, policies, allowances, rules, recorder } = this._ctx;
    const ticket = await this._ticket(id);
    if (!ticket) return { error: "This warning has expired. Reload the page you wanted to see." };
    const { policy, bundle } = await policies.current();
    const at = await settings.now();
    const decision = await this._decide(ticket.url, policy, at);
    if (!decision || !continueAccepted(bundle, decision, reason)) {
      return { error: "Continue is not available. Choose one of the reasons offered." };
    }
    const minutes = Number(policy.settings.allowance_minutes);
    await allowances.grant(decision.platform, at + minutes * 60_000);
    await ext.session.remove(ticket.key);
    await rules.refresh();
    if (decision.record) await recorder.record(decision, at, "continued", reason);
    return { url: ticket.url };
  }

  /** Go back: the warning was heeded, and the event says so. */
  async goBack({ ticket: id }) {
    const { ext, settings, policies, recorder } = this._ctx;
    const ticket = await this._ticket(id);
    if (!ticket) return {};
    const { policy } = await policies.current();
    const at = await settings.now();
    const decision = await this._decide(ticket.url, policy, at);
    await ext.session.remove(ticket.key);
    if (decision && goingBackRecorded(decision)) {
      await recorder.record(decision, at, "went_back");
    }
    return {};
  }

  /**
   * "Register this as a school account": the only way a personal account id ever leaves the
   * device, on purpose, asked for by the member of staff (POST /api/v1/account-requests).
   */
  async register({ ticket: id, label }) {
    const { ext, settings, policies, fetch } = this._ctx;
    const ticket = await this._ticket(id);
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
        body: JSON.stringify({ platform: seen.platform, account_id: seen.accountId, label: name }),
      });
      if (response.status !== 202 && response.status !== 200) throw new Error(`answered ${response.status}`);
    } catch {
      return { heading: "Not sent", message: "The ClauseWarden service could not be reached; try later." };
    }
    return { heading: "Request sent", message: "The headteacher will be asked to approve this account.", sent: true };
  }
}
