// Per-platform allowances: after "Continue" (or a page found not to need a warning) a platform's
// navigations pass until a time, kept in chrome.storage.session (gone when the browser closes).

import { WARNING_OUTCOMES, continueOffered } from "./policy/warning.js";

export const allowanceKey = (platform) => `allowance.${platform}`;

export class Allowances {
  constructor(session) {
    this._session = session;
  }

  /** True while `platform` has an allowance at `at` (epoch ms). */
  async has(platform, at) {
    const key = allowanceKey(platform);
    const until = (await this._session.get([key]))[key];
    return typeof until === "number" && at < until;
  }

  grant(platform, until) {
    return this._session.set({ [allowanceKey(platform)]: until });
  }
}

/** The warn-or-block outcome of `decision` that no allowance lets through, else null. */
export async function stopping(decision, at, allowances) {
  if (decision === null || !WARNING_OUTCOMES.includes(decision.outcome)) return null;
  const allowed = continueOffered(decision) && (await allowances.has(decision.platform, at));
  return allowed ? null : decision.outcome;
}
