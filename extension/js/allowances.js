// Per-platform allowances: after "Continue" (or a page found not to need a warning) a platform's
// navigations pass until a time, kept in chrome.storage.session (gone when the browser closes).

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
