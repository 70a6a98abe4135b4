// The warning page's side of the worker: what the page shows for a URL, and what Continue, Go
// back and "Register this as a school account" do, carried out as js/policy/respond.js says. The
// page's opening decides the URL afresh; its ticket then carries that Decision, so Continue and Go
// back never decide again from a URL.
//
// The warning is recorded by the worker when it sends a tab's navigation to the warning page
// (`expect`), with a one-time nonce kept for that tab. The warning page, in that tab's top frame
// only, takes the nonce once (`open`) as its ticket, and reports the choice with it: a page
// loaded any other way (a frame, another site's window, a reload) records nothing and gets
// nothing. Tickets and nonces (which hold the warned URL) live in chrome.storage.session, are
// removed when the warning is answered, and any left unanswered go with the ticket's lifetime
// (TICKET_SECONDS, the proxy's too).

import { decideNavigation, signedInAccount } from "./navigation-rules.js";
import { Facts } from "./policy/facts.js";
import { TICKET_SECONDS, answerBack, answerContinue, respond } from "./policy/respond.js";
import { warningContent } from "./policy/warning.js";
import { privacyLevel, randomHex } from "./sensor-event.js";
import { forgetStale } from "./session-expiry.js";
import { tellPath } from "./tell.js";

const TICKET_MS = TICKET_SECONDS * 1000;
const PASS_THROUGH_SECONDS = 10;
const PENDING_MS = 30_000; // a navigation seen twice (before it starts, when it commits) is one
const pendingKey = (tabId) => `pending.${tabId}`;
/**
 * The same page: a redirect rule's URL carries no #fragment (webNavigation's may), and a plain
 * http:// link is seen before the browser upgrades it to https:// (HSTS, or the site's own
 * redirect), so the warning opens for the https:// address of the page the worker was told of.
 */
const samePage = (a, b) => pageOf(a) === pageOf(b);

function pageOf(address) {
  try {
    const url = new URL(String(address));
    url.hash = "";
    if (url.protocol === "http:") url.protocol = "https:";
    return url.href;
  } catch {
    return String(address).split("#")[0];
  }
}

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
    if (!ticket || ticket.tab !== tabId || !((await this._ctx.settings.now()) / 1000 < ticket.expires)) return null;
    return { key, ...ticket };
  }

  /** Forget tickets and nonces left unanswered (each holds a warned URL). */
  async _forgetStale(at) {
    await forgetStale(this._ctx.ext.session, ["ticket.", "pending."], TICKET_MS, at);
  }

  /**
   * The worker is sending tab `tabId`'s navigation to `url` to the warning page (`response`, of
   * respond(), shows a page): record the warning now (once per navigation) as it says, and keep a
   * one-time nonce for the page that tab will show.
   */
  async expect(tabId, url, decision, response, at) {
    const { ext, recorder } = this._ctx;
    const key = pendingKey(tabId);
    const old = (await ext.session.get([key]))[key];
    if (old && samePage(old.url, url) && at - old.at >= 0 && at - old.at < PENDING_MS) return;
    await ext.session.set({ [key]: { url, at, nonce: randomHex(16) } });
    if (response.record) await recorder.record(decision, at, "none", null, { held: response.request === "hold" });
  }

  /**
   * A form posted as a page was held by an act rule (and recorded, held, by the worker): the tab
   * is sent to the warning page, which decides the post (its method) rather than a page load.
   */
  async expectHeld(tabId, url, method, decision, at) {
    await this._ctx.ext.session.set({ [pendingKey(tabId)]: { url, method, at, nonce: randomHex(16) } });
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
    let decided = null;
    try {
      decided = await decideNavigation(url, policy, at, ext.cookiesFor, method);
    } catch {
      decided = null;
    }
    const [decision, request] = decided ?? [null, null];
    const response = decision === null ? null : await allowances.respond(decision, request, at);
    if (response === null || response.page === "none") {
      // Nothing to warn about (any more), or an allowance runs: let the page through, and keep
      // the rules from looping (a page that passes with no allowance at all, such as a quiet
      // part of a warned platform, passes its platform's rule a moment).
      if (decision !== null && respond(decision, request, {}, at / 1000).page === "none") {
        await allowances.grant(decision.platform, { pages_allowed_until: at / 1000 + PASS_THROUGH_SECONDS });
      }
      await rules.refresh();
      return { proceed: true, school: policy.schoolName };
    }
    if (!pending || !samePage(pending.url, url) || !(at - pending.at <= TICKET_MS)) {
      return { expired: true, school: policy.schoolName };
    }
    const ticket = pending.nonce;
    const held = response.request === "hold";
    // The ticket carries the Decision: Continue and Go back carry it out, never deciding again.
    await ext.session.set({ [`ticket.${ticket}`]: { url, at, tab: tabId, decision, held, expires: response.ticket_expires } });
    const { path, query } = Facts.fromUrl(url, { at });
    const seen = await signedInAccount(url, policy, ext.cookiesFor);
    return {
      ticket,
      ...warningContent(bundle, decision, {
        returnTo: query ? `${path}?${query}` : path,
        accountSeen: Boolean(seen?.accountId),
        held,
      }),
      privacy_level: privacyLevel(bundle, config.privacyLevel),
      tell: Boolean(config.serviceUrl && config.token), // "Tell the Headteacher" can send
      // The clause coverage map is a public page of the school's service.
      clauses_url: config.serviceUrl ? `${config.serviceUrl.replace(/\/+$/, "")}/clauses` : null,
    };
  }

  /**
   * Continue with a reason: what answerContinue() opens (the platform's pages; that kind of act
   * too on a held act's warning), and the event says why. A reason that tells the Headteacher
   * instead opens nothing: the act stays unsent, Go back is recorded, and the page goes to the
   * Tell form ({tell: its address}) with the platform and what it is about chosen.
   */
  async continueTo({ ticket: id, reason }, tabId) {
    const { ext, settings, policies, allowances, rules, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return { error: "This warning has expired. Reload the page you wanted to see." };
    const { policy, bundle } = await policies.current();
    const at = await settings.now();
    const { decision, held } = ticket;
    const answer = answerContinue(bundle, decision, reason, { held, now: at / 1000 });
    if (answer.tell !== null) {
      await ext.session.remove(ticket.key);
      if (answer.record) await recorder.record(decision, at, "went_back", null, { held });
      return { tell: ext.extensionUrl(tellPath([...policy.platforms.keys()], decision.platform, answer.tell)) };
    }
    if (!answer.accepted) return { error: "Continue is not available. Choose one of the reasons offered." };
    await allowances.grant(decision.platform, answer);
    await ext.session.remove(ticket.key);
    await rules.refresh();
    if (answer.record) await recorder.record(decision, at, "continued", reason, { held });
    // (A held form's Response says back to the page it was posted from; the extension does not
    // know that page, only its origin, so Continue leads to the address asked for, as before.)
    return { url: ticket.url };
  }

  /** Go back: the warning was heeded, and the event says so where answerBack() records it. */
  async goBack({ ticket: id }, tabId) {
    const { ext, settings, recorder } = this._ctx;
    const ticket = await this._ticket(id, tabId);
    if (!ticket) return {};
    const at = await settings.now();
    await ext.session.remove(ticket.key);
    if (answerBack(ticket.decision).record) {
      await recorder.record(ticket.decision, at, "went_back", null, { held: ticket.held });
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
