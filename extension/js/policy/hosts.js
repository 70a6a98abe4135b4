// policy/hosts.py: which platform a host belongs to, by domain, never by substring.
//
// Python walks a host's names down to its registrable domain (tldextract, offline snapshot). JS
// has no public suffix list, so it walks every parent name that still holds a dot: the two agree
// while no catalogue domain is a public suffix, which tests/extension/test_cross_check.py checks.
// `facebook.com.example.org` and `notfacebook.com` never match.

import { PY_SPACE } from "./py-regex.js";

export const HOST_CACHE_SIZE = 8192;
/** Google Translate's web proxy: `www-facebook-com.translate.goog` serves www.facebook.com. */
export const TRANSLATE_PROXY = ".translate.goog";
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const LABEL_DOTS = /[.\u3002\uff0e\uff61]/;

export function normaliseHost(host) {
  return host.replace(PY_STRIP, "").replace(/\.+$/, "").toLowerCase();
}

/**
 * The host a Google Translate proxy host stands for (`www-facebook-com.translate.goog` is
 * www.facebook.com: "-" was ".", "--" was "-"), else the host itself; normalised either way.
 */
export function untranslated(host) {
  host = normaliseHost(host);
  if (host.endsWith(TRANSLATE_PROXY)) {
    const label = host.slice(0, -TRANSLATE_PROXY.length);
    if (label && !label.includes(".")) {
      return normaliseHost(label.replaceAll("--", "\0").replaceAll("-", ".").replaceAll("\0", "-"));
    }
  }
  return host;
}

/** Maps host names to platform ids; results are cached in a bounded map. */
export class HostClassifier {
  /** domains, hosts, tlds: iterables of [name, platformId] */
  constructor(domains, hosts, tlds) {
    this._domains = new Map(domains);
    this._hosts = new Map(hosts);
    this._tlds = new Map(tlds);
    this._cache = new Map();
  }

  /** The platform id of a host, or null: exact host, then the most specific domain, then TLD. */
  platformFor(host) {
    let found = this._cache.get(host);
    if (found === undefined) {
      found = this._classify(host);
      if (this._cache.size > HOST_CACHE_SIZE) this._cache.clear();
      this._cache.set(host, found);
    }
    return found;
  }

  _classify(rawHost) {
    const host = untranslated(rawHost);
    const exact = this._hosts.get(host);
    if (exact !== undefined) return exact;
    let name = host;
    for (;;) {
      const hit = this._domains.get(name);
      if (hit !== undefined) return hit;
      const dot = name.indexOf(".");
      if (dot < 0) break;
      name = name.slice(dot + 1);
      if (!name.includes(".")) break;
    }
    const labels = host.split(LABEL_DOTS);
    return this._tlds.get(labels[labels.length - 1]) ?? null;
  }
}
