// What the worker keeps about this device on each platform, for js/policy/respond.js to decide
// with: after Continue on a page's warning the platform's pages open until a time, after Continue
// on a held act its acts too (answerContinue says until when). Kept in chrome.storage.session
// (gone when the browser closes), in epoch seconds as respond() takes them.

import { respond } from "./policy/respond.js";

export const allowanceKey = (platform) => `allowance.${platform}`;

export class Allowances {
  constructor(session) {
    this._session = session;
  }

  /**
   * The Device of respond() for `platform`. No held act is ever pending for a next page here:
   * the extension shows a held act's notice in the page at once (js/held-acts.js), which the
   * proxy can't.
   */
  async device(platform) {
    const key = allowanceKey(platform);
    const kept = (await this._session.get([key]))[key] ?? {};
    return {
      pages_allowed_until: kept.pages_allowed_until ?? null,
      acts_allowed_until: kept.acts_allowed_until ?? null,
      pending_held_at: null,
    };
  }

  /** Keep what an Answer opened ({pages_allowed_until, acts_allowed_until}, epoch seconds); an
   * allowance running longer is never cut short. */
  async grant(platform, { pages_allowed_until = null, acts_allowed_until = null }) {
    const kept = await this.device(platform);
    const later = (a, b) => (a === null ? b : b === null ? a : Math.max(a, b));
    await this._session.set({
      [allowanceKey(platform)]: {
        pages_allowed_until: later(kept.pages_allowed_until, pages_allowed_until),
        acts_allowed_until: later(kept.acts_allowed_until, acts_allowed_until),
      },
    });
  }

  /** The Response to `decision` about `request` on this device at `at` (epoch ms). */
  async respond(decision, request, at) {
    return respond(decision, request, await this.device(decision.platform), at / 1000);
  }
}
