// What the worker keeps about this device on each platform, for js/policy/respond.js to decide
// with: after Continue on a page's warning the platform's pages open until a time, after Continue
// on a held act its pages and that one kind of act too (answerContinue says until when, and which
// kind): any other kind of act is still held and warned on its own. Kept in
// chrome.storage.session (gone when the browser closes), in epoch seconds as respond() takes them.

import { respond } from "./policy/respond.js";

export const allowanceKey = (platform) => `allowance.${platform}`;

const later = (a, b) => (a === null || a === undefined ? (b ?? null) : b === null || b === undefined ? a : Math.max(a, b));

export class Allowances {
  constructor(session) {
    this._session = session;
  }

  /**
   * The Device of respond() for `platform` (acts_allowed_until by kind of act). No held act is
   * ever pending for a next page here: the extension shows a held act's notice in the page at
   * once (js/held-acts.js), which the proxy can't.
   */
  async device(platform) {
    const key = allowanceKey(platform);
    const kept = (await this._session.get([key]))[key] ?? {};
    // (an allowance kept by an earlier version, one time for every act, opens none: held again)
    const acts = kept.acts_allowed_until !== null && typeof kept.acts_allowed_until === "object" ? kept.acts_allowed_until : {};
    return {
      pages_allowed_until: kept.pages_allowed_until ?? null,
      acts_allowed_until: { ...acts },
      pending_held_at: null,
    };
  }

  /** Keep what an Answer opened ({pages_allowed_until, acts_allowed_until, act}, epoch seconds);
   * an allowance running longer is never cut short. */
  async grant(platform, { pages_allowed_until = null, acts_allowed_until = null, act = null }) {
    const kept = await this.device(platform);
    const acts = kept.acts_allowed_until;
    if (act !== null && acts_allowed_until !== null) acts[act] = later(acts[act], acts_allowed_until);
    await this._session.set({
      [allowanceKey(platform)]: {
        pages_allowed_until: later(kept.pages_allowed_until, pages_allowed_until),
        acts_allowed_until: acts,
      },
    });
  }

  /** The Response to `decision` about `request` on this device at `at` (epoch ms). */
  async respond(decision, request, at) {
    return respond(decision, request, await this.device(decision.platform), at / 1000);
  }
}
