// policy/facts.py: the facts of one request (what a sensor saw) and the Decision about it.
//
// Both carry the Python field names (`device_group`, `working_time`, ...): they are the contract
// the shared vectors hold. A time is epoch milliseconds (given as a number, a Date, or an ISO
// string that carries its UTC offset).

import { urlsplit } from "./py-url.js";

/** One request as a sensor saw it. Header names are lower case. Nothing here leaves a sensor. */
export class Facts {
  /** {host, path="/", query="", method="GET", headers={}, cookies={}, body=null (string or
   * Uint8Array), body_cut=false, at, client=null, device_group=null} */
  constructor(fields) {
    this.host = fields.host;
    this.path = fields.path ?? "/";
    this.query = fields.query ?? "";
    this.method = fields.method ?? "GET";
    this.headers = fields.headers ?? {};
    this.cookies = fields.cookies ?? {};
    this.body = fields.body ?? null;
    /** The sensor could not read all of the body (longer than its look, or in an encoding it
     * could not undo); `body` then holds what it could read. */
    this.body_cut = fields.body_cut ?? false;
    this.at = _epochMs(fields.at);
    this.client = fields.client ?? null;
    this.device_group = fields.device_group ?? null;
  }

  /** Facts.from_url: host, path and query read from `url` as urllib.parse.urlsplit does. */
  static fromUrl(url, fields) {
    const parts = urlsplit(url);
    if (!parts.hostname) throw new Error(`not an absolute URL with a host: ${url}`);
    return new Facts({ ...fields, host: parts.hostname, path: parts.path || "/", query: parts.query });
  }

  /** Facts from a plain object (a vector's, or a sensor's) giving either `url` or `host`. */
  static from(fields) {
    if (fields instanceof Facts) return fields;
    return fields.host === undefined ? Facts.fromUrl(fields.url, fields) : new Facts(fields);
  }
}

function _epochMs(at) {
  if (typeof at === "number") return at;
  if (at instanceof Date) return at.getTime();
  if (typeof at === "string" && /([+-]\d{2}:?\d{2}|Z)$/i.test(at)) {
    const ms = Date.parse(at);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error("the time of a request must carry its UTC offset");
}

/** What the policy says about one request, and why. */
export class Decision {
  constructor(fields) {
    this.platform = fields.platform;
    this.category = fields.category;
    this.action = fields.action;
    this.working_time = fields.working_time;
    this.device_group = fields.device_group;
    this.account = fields.account;
    this.outcome = fields.outcome;
    this.clauses = fields.clauses;
    this.reason = fields.reason;
    this.rule = fields.rule;
    this.record = fields.record ?? false;
    this.allow_continue = fields.allow_continue ?? false;
    this.school_account = fields.school_account ?? null;
    // The clauses that may apply: the request does not show whether their condition is met.
    this.may_apply = fields.may_apply ?? [];
  }

  /** The Decision fields of the architecture plus the rule that matched (JSON-ready). */
  contract() {
    const { platform, category, action, working_time, device_group, account, outcome, clauses, may_apply, reason, rule } = this;
    return {
      platform, category, action, working_time, device_group, account, outcome,
      clauses: [...clauses], may_apply: [...may_apply], reason, rule,
    };
  }
}
