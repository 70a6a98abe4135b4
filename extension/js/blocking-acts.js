// Blocking webRequest for a force-installed extension (issue 16 §3): Chrome lets an extension
// installed by policy (ExtensionInstallForcelist) cancel a request in onBeforeRequest, where the
// body is seen. The listener must answer at once, so it decides with the Policy and the acts held
// (platform and act whose act respond() would not send on now) kept here in memory by the worker
// each time it derives the act rules; it cancels a page's request whose canonical form is one of
// those acts: the body-named acts (GraphQL operations, ...) and the URL forms the
// declarativeNetRequest rules can't see (`//`, capitals, escaped letters, `;` parameters, PUT).
// Installed the ordinary way Chrome does not let the listener block: the DNR rules alone hold.
// No chrome.* here: ext.js registers the listener.

import { ACT_TYPES } from "./act-rules.js";
import { bodyOf } from "./navigation.js";
import { decide } from "./policy/decide.js";
import { Facts } from "./policy/facts.js";

const ACTS = new Set(["post", "message", "connect", "reference"]);
const FORGET_MS = 60_000;

export class BlockingActs {
  constructor(clock = Date.now) {
    this._clock = clock;
    this._policy = null; // until the worker first derives the rules (a cold worker lets through)
    this._held = new Set();
    this._cancelled = new Map(); // requestId -> when
  }

  /** The Policy and the acts held now: [[platform, action], ...]. */
  update(policy, held) {
    this._policy = policy;
    this._held = new Set(held.map(([platform, action]) => `${platform}|${action}`));
  }

  /** onBeforeRequest (blocking): {cancel: true} for a page's act held now, else undefined. */
  check(details) {
    if (this._policy === null || !this._held.size) return undefined;
    if (!ACT_TYPES.includes(details.type)) return undefined; // a page load: the warning page's
    if ((details.initiator ?? "").startsWith("chrome-extension:")) return undefined;
    let decision;
    let seen;
    try {
      const url = Facts.fromUrl(details.url, { at: this._clock() });
      const raw = details.requestBody ?? null;
      seen = {
        body: bodyOf(raw),
        body_cut: Boolean(raw && (raw.error || (raw.raw ?? []).some((part) => !part.bytes))),
      };
      decision = decide(new Facts({ ...url, method: details.method, ...seen }), this._policy);
    } catch {
      return undefined;
    }
    if (!ACTS.has(decision.action) || !this._held.has(`${decision.platform}|${decision.action}`)) return undefined;
    this._forget();
    // The body, kept for this request only, until its error is handled: the worker's own decision
    // (with the account cookies) may come after onErrorOccurred, which then decides with it.
    this._cancelled.set(details.requestId, { at: this._clock(), ...seen });
    return { cancel: true };
  }

  /** Whether check() cancelled this request. */
  cancelled(requestId) {
    return this._cancelled.has(requestId);
  }

  /** What check() saw of the body of a request it cancelled ({body, body_cut}), once; or null. */
  take(requestId) {
    const seen = this._cancelled.get(requestId);
    if (!seen) return null;
    this._cancelled.delete(requestId);
    return { body: seen.body, body_cut: seen.body_cut };
  }

  _forget() {
    const now = this._clock();
    for (const [id, seen] of this._cancelled) if (now - seen.at > FORGET_MS) this._cancelled.delete(id);
  }
}
