// The declarativeNetRequest session rules in force: the redirect rules (js/navigation-rules.js)
// and the act rules (js/act-rules.js), replaced together whenever the time, cookies, allowances or
// bundle change. Which platforms are redirected and which acts are held are kept in session
// storage under the keys below, for the worker to read without computing them again.

export const PLATFORMS_KEY = "dnr.platforms";
export const ACTS_KEY = "dnr.acts"; // the act rules in force (js/act-rules.js)

/** The session rules in force: recomputed on demand, never two refreshes at once. */
export class SessionRules {
  /** `compute()` gives the redirect and act rules for now; `ext` gives session storage and the DNR call. */
  constructor(ext, compute) {
    this._ext = ext;
    this._compute = compute;
    this._run = Promise.resolve();
  }

  /**
   * Replace the session rules (serialised: calls never interleave): the redirect rules, and the
   * act rules (js/act-rules.js) whose regex the browser takes (one it refused would fail them all).
   */
  refresh() {
    this._run = this._run
      .catch(() => {})
      .then(async () => {
        const rules = await this._compute();
        const redirects = rules.filter((r) => r.action.type === "redirect");
        const acts = [];
        const passes = []; // quiet parts of a redirected platform (`allow`, higher priority)
        for (const r of rules.filter((r) => r.action.type !== "redirect")) {
          if (!this._ext.regexSupported || (await this._ext.regexSupported(r.condition.regexFilter))) {
            (r.action.type === "allow" ? passes : acts).push(r);
          }
        }
        await this._ext.session.set({
          [PLATFORMS_KEY]: redirects.map((r) => r.platform),
          [ACTS_KEY]: acts.map(({ platform, index, navigation }) => ({ platform, index, navigation })),
        });
        await this._ext.replaceSessionRules(
          [...redirects, ...passes, ...acts].map(({ platform, index, navigation, ...rule }) => rule),
        );
      });
    return this._run;
  }

  /** The platforms the rules redirect, as last refreshed. */
  async platforms() {
    return (await this._ext.session.get([PLATFORMS_KEY]))[PLATFORMS_KEY] ?? [];
  }
}
