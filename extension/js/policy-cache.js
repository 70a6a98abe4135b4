// The Policy in force, as a cache of the stored bundle: rebuilt only when the bundle changes
// (its meta key in storage, or a sync that got a new one), else the one in memory.

import { META_KEY, currentBundle } from "./bundle-source.js";
import { Policy } from "./policy/engine.js";

export class PolicyCache {
  /** `local`: chrome.storage.local-like; `builtIn()`: the packaged default bundle (a promise). */
  constructor(local, builtIn) {
    this._local = local;
    this._builtIn = builtIn;
    this._builtInBundle = null;
    this.loaded = null;
  }

  /** {policy, bundle, source} of the bundle in force. */
  async current() {
    if (this.loaded && !this.loaded.stale) return this.loaded;
    const meta = (await this._local.get([META_KEY]))[META_KEY];
    const key = meta ? `${meta.version}|${meta.etag}` : "built-in";
    if (this.loaded && this.loaded.key === key) {
      this.loaded.stale = false;
      return this.loaded;
    }
    if (!this._builtInBundle) this._builtInBundle = await this._builtIn();
    const current = await currentBundle(this._local, this._builtInBundle);
    this.loaded = { key, stale: false, policy: new Policy(current.bundle), bundle: current.bundle, source: current.source };
    return this.loaded;
  }

  /** The stored bundle changed: look again on the next use. */
  markStale() {
    if (this.loaded) this.loaded.stale = true;
  }
}
