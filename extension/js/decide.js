// The JavaScript twin of policy.decide(): the facts of one request in, a Decision out.
//
// Pure: no browser APIs, no clock, no network. It evaluates the compiled policy bundle (the JSON
// that `clausewarden bundle` prints) exactly as policy/engine.py and policy/decide.py do; the
// shared vectors (tests/vectors/decisions.json) and the cross-check in tests/extension/ keep the
// two equal. Run its tests with `cd extension && node --test tests/`.

import { networkContains, parseAddress, parseNetwork, unmapped } from "./ip.js";
import { PY_SPACE, pyRegex } from "./py-regex.js";

export const NOT_SOCIAL = "not-social-media";
export const OUTSIDE_GROUPS = "outside-device-groups";
export const NO_RULE = "no-rule-matched";

// policy/vocabulary.py (the cross-check compares these with the Python ones).
export const CATEGORY_LABELS = {
  social_network: "a social network",
  professional_network: "a professional network",
  messaging: "a messaging service",
  video: "a video platform",
  blog: "a blogging platform",
  wiki: "a wiki",
  forum: "a forum",
};
export const ACTION_LABELS = {
  browse: "opening",
  post: "posting, commenting or reacting on",
  message: "sending a message on",
  reference: "writing a recommendation or endorsement on",
  connect: "sending a friend request, follow or invitation on",
  subresource: "content embedded from",
};
const OUTCOME_WORDS = {
  allow: "is allowed",
  log: "is allowed and recorded anonymously",
  warn: "gets a warning",
  block: "is blocked",
};
const ACCOUNT_WORDS = { school: "from an approved school account", personal: "from a personal account", unknown: "" };
const WEEKDAYS = ["monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"];
const PY_STRIP = new RegExp(`^[${PY_SPACE}]+|[${PY_SPACE}]+$`, "gu");
const LABEL_DOTS = /[.\u3002\uff0e\uff61]/;
const ENCODER = new TextEncoder();
const DECODER = new TextDecoder("utf-8");

export class BundleError extends Error {}

const optionalSet = (values) => (values === null || values === undefined ? null : new Set(values));
const optionalRegex = (pattern) => (pattern === null || pattern === undefined ? null : pyRegex(pattern));

function need(value, what) {
  if (value === undefined || value === null) throw new TypeError(`missing ${what}`);
  return value;
}

function isoDate(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    throw new TypeError(`not a date: ${JSON.stringify(text)}`);
  }
  return text;
}

function daysBetween(start, end) {
  const out = [];
  const last = Date.parse(`${end}T00:00:00Z`);
  for (let t = Date.parse(`${start}T00:00:00Z`); t <= last; t += 86400000) {
    out.push(new Date(t).toISOString().slice(0, 10));
  }
  return out;
}

function minutesOf(hhmm) {
  const [h, m] = hhmm.split(":");
  const hours = Number(h);
  const minutes = Number(m);
  if (!Number.isInteger(hours) || !Number.isInteger(minutes) || hours > 23 || minutes > 59) {
    throw new TypeError(`not a time: ${hhmm}`);
  }
  return hours * 60 + minutes;
}

/** Working time in the school's own zone (policy/schedule.py). */
export class WorkingTime {
  constructor(schedule) {
    this.zone = need(schedule.time_zone, "schedule.time_zone");
    this.format = new Intl.DateTimeFormat("en-US", {
      timeZone: this.zone,
      hourCycle: "h23",
      year: "numeric",
      month: "2-digit",
      day: "2-digit",
      hour: "2-digit",
      minute: "2-digit",
    });
    this.hours = WEEKDAYS.map((day) =>
      (schedule.working_hours[day] || []).map(([a, b]) => [minutesOf(a) * 60, minutesOf(b) * 60]),
    );
    this.terms = schedule.terms.map((t) => [isoDate(t.start), isoDate(t.end)]);
    const closed = schedule.bank_holidays.map((d) => isoDate(d.date));
    for (const c of schedule.closures) closed.push(...daysBetween(isoDate(c.start), isoDate(c.end)));
    this.closed = new Set(closed);
    this.inset = new Set(schedule.inset_days.map((d) => isoDate(d.date)));
    this.cacheMinute = NaN;
    this.cacheLocal = null;
  }

  /** {date: "YYYY-MM-DD", weekday: 0 (Monday)..6, seconds: since local midnight} */
  local(ms) {
    const minute = Math.floor(ms / 60000);
    if (minute !== this.cacheMinute) {
      const parts = {};
      for (const p of this.format.formatToParts(new Date(minute * 60000))) parts[p.type] = p.value;
      const date = `${parts.year.padStart(4, "0")}-${parts.month}-${parts.day}`;
      const weekday = (new Date(`${date}T00:00:00Z`).getUTCDay() + 6) % 7;
      this.cacheLocal = { date, weekday, minuteSeconds: Number(parts.hour) * 3600 + Number(parts.minute) * 60 };
      this.cacheMinute = minute;
    }
    const c = this.cacheLocal;
    return { date: c.date, weekday: c.weekday, seconds: c.minuteSeconds + (ms - minute * 60000) / 1000 };
  }

  isWorkingDay(day) {
    if (this.closed.has(day)) return false;
    if (this.inset.has(day)) return true;
    return this.terms.some(([start, end]) => start <= day && day <= end);
  }

  at(ms) {
    const local = this.local(ms);
    const ranges = this.hours[local.weekday];
    if (!ranges.length || !this.isWorkingDay(local.date)) return false;
    return ranges.some(([start, end]) => start <= local.seconds && local.seconds < end);
  }
}

/** A loaded bundle (policy/engine.py's Policy). Throws BundleError on a bad bundle. */
export class Policy {
  constructor(bundle) {
    try {
      this.load(bundle);
    } catch (err) {
      throw new BundleError(`not a usable policy bundle: ${err.name}: ${err.message}`);
    }
  }

  static fromBundle(bundle) {
    return new Policy(bundle);
  }

  load(bundle) {
    this.bundle = bundle;
    this.version = need(bundle.version, "version");
    this.policyVersion = need(bundle.policy_version, "policy_version");
    this.schoolName = need(bundle.school, "school").name;
    this.clauses = new Map(bundle.clauses.map((c) => [c.id, c]));
    this.domains = new Map();
    this.hosts = new Map();
    this.tlds = new Map();
    this.platforms = new Map();
    for (const p of bundle.platforms) {
      for (const d of p.domains) this.domains.set(d, p.id);
      for (const h of p.hosts || []) this.hosts.set(h, p.id);
      for (const t of p.tlds || []) this.tlds.set(t, p.id);
      this.platforms.set(p.id, {
        id: p.id,
        name: need(p.name, "platform name"),
        category: need(p.category, "platform category"),
        accountCookies: (p.account_cookies || []).map((c) => [c.name, pyRegex(c.pattern)]),
        endpoints: (p.endpoints || []).map((e) => ({
          action: e.action,
          methods: new Set(e.methods),
          path: pyRegex(e.path),
          query: optionalRegex(e.query),
          body: optionalRegex(e.body),
          hosts: new Set(e.hosts || []),
        })),
      });
    }
    this.hostCache = new Map();
    this.workingTime = new WorkingTime(need(bundle.schedule, "schedule"));
    this.deviceGroups = bundle.device_groups.map((g) => [g.id, g.networks.map(parseNetwork)]);
    this.groupLabels = Object.fromEntries(bundle.device_groups.map((g) => [g.id, g.label]));
    this.staffGroup = need(bundle.staff_group, "staff_group");
    this.rules = bundle.rules.map((r) => ({
      id: r.id,
      description: r.description,
      categories: optionalSet(r.match.categories),
      platforms: optionalSet(r.match.platforms),
      actions: optionalSet(r.match.actions),
      workingTime: r.match.working_time ?? null,
      deviceGroups: optionalSet(r.match.device_groups),
      accounts: optionalSet(r.match.accounts),
      outcome: need(r.outcome, "rule outcome"),
      clauses: [...r.clauses],
      record: Boolean(r.record),
      allowContinue: Boolean(r.allow_continue),
    }));
    this.accounts = new Map();
    for (const a of bundle.accounts) {
      const spec = {
        id: a.id,
        platform: a.platform,
        accountId: String(a.account_id),
        label: a.label,
        approvedOn: isoDate(a.approved_on),
        expiresOn: a.expires_on ? isoDate(a.expires_on) : null,
        actions: new Set(a.actions),
      };
      const key = `${spec.platform}\u0000${spec.accountId}`;
      this.accounts.set(key, [...(this.accounts.get(key) || []), spec]);
    }
    this.settings = need(bundle.settings, "settings");
    this.bodyPeekBytes = Number(this.settings.body_peek_bytes);
    if (!Number.isInteger(this.bodyPeekBytes)) throw new TypeError("settings.body_peek_bytes");
  }

  /** The platform id of a host, or null (policy/hosts.py: exact host, domain walk, TLD). */
  platformFor(host) {
    let found = this.hostCache.get(host);
    if (found === undefined) {
      found = this.classify(host);
      if (this.hostCache.size > 8192) this.hostCache.clear();
      this.hostCache.set(host, found);
    }
    return found;
  }

  classify(rawHost) {
    const host = normaliseHost(rawHost);
    const exact = this.hosts.get(host);
    if (exact !== undefined) return exact;
    let name = host;
    for (;;) {
      const hit = this.domains.get(name);
      if (hit !== undefined) return hit;
      const dot = name.indexOf(".");
      if (dot < 0) break;
      name = name.slice(dot + 1);
      if (!name.includes(".")) break;
    }
    const labels = host.split(LABEL_DOTS);
    return this.tlds.get(labels[labels.length - 1]) ?? null;
  }

  groupForClient(client) {
    const address = parseAddress(client.split("%", 1)[0]);
    if (address === null) return null;
    const plain = unmapped(address);
    for (const [id, networks] of this.deviceGroups) {
      if (networks.some((net) => networkContains(net, plain))) return id;
    }
    return null;
  }

  accountId(platform, cookies) {
    for (const [name, pattern] of platform.accountCookies) {
      const value = Object.hasOwn(cookies, name) ? cookies[name] : undefined;
      if (value) {
        const match = pattern.exec(unquote(value));
        if (match && match[1]) return match[1];
      }
    }
    return null;
  }

  clauseTexts(ids) {
    return ids.filter((id) => this.clauses.has(id)).map((id) => this.clauses.get(id));
  }
}

export function normaliseHost(host) {
  return host.replace(PY_STRIP, "").replace(/\.+$/, "").toLowerCase();
}

/** urllib.parse.unquote (UTF-8, errors="replace"): ASCII runs decoded, invalid %XX kept. */
export function unquote(text) {
  if (!text.includes("%")) return text;
  return text.replace(/[\x00-\x7f]+/g, (run) => {
    if (!run.includes("%")) return run;
    const bytes = [];
    const pieces = run.split("%");
    for (const ch of pieces[0]) bytes.push(ch.charCodeAt(0));
    for (const piece of pieces.slice(1)) {
      if (/^[0-9a-fA-F]{2}/.test(piece)) {
        bytes.push(parseInt(piece.slice(0, 2), 16));
        for (const ch of piece.slice(2)) bytes.push(ch.charCodeAt(0));
      } else {
        bytes.push(0x25);
        for (const ch of piece) bytes.push(ch.charCodeAt(0));
      }
    }
    return DECODER.decode(new Uint8Array(bytes));
  });
}

/** urllib.parse.urlsplit(url) -> {host (Python's .hostname), path, query} as Facts.from_url does. */
export function splitUrl(url) {
  let rest = url.replace(/^[\x00-\x20]+/, "").replace(/[\t\r\n]/g, "");
  const colon = rest.indexOf(":");
  if (colon > 0 && /^[A-Za-z][A-Za-z0-9+\-.]*$/.test(rest.slice(0, colon))) rest = rest.slice(colon + 1);
  let netloc = "";
  if (rest.startsWith("//")) {
    let end = rest.length;
    for (const c of "/?#") {
      const at = rest.indexOf(c, 2);
      if (at >= 0 && at < end) end = at;
    }
    netloc = rest.slice(2, end);
    rest = rest.slice(end);
    if (netloc.includes("[") !== netloc.includes("]")) throw new Error(`Invalid IPv6 URL: ${url}`);
  }
  const hash = rest.indexOf("#");
  if (hash >= 0) rest = rest.slice(0, hash);
  let query = "";
  const q = rest.indexOf("?");
  if (q >= 0) {
    query = rest.slice(q + 1);
    rest = rest.slice(0, q);
  }
  const hostinfo = netloc.slice(netloc.lastIndexOf("@") + 1);
  let hostname;
  const open = hostinfo.indexOf("[");
  if (open >= 0) {
    const bracketed = hostinfo.slice(open + 1);
    const close = bracketed.indexOf("]");
    hostname = close >= 0 ? bracketed.slice(0, close) : bracketed;
  } else {
    const port = hostinfo.indexOf(":");
    hostname = port >= 0 ? hostinfo.slice(0, port) : hostinfo;
  }
  if (!hostname) throw new Error(`not an absolute URL with a host: ${url}`);
  const pct = hostname.indexOf("%");
  const host = pct >= 0 ? hostname.slice(0, pct).toLowerCase() + hostname.slice(pct) : hostname.toLowerCase();
  return { host, path: rest || "/", query };
}

/** A page the person asked for, not something a page fetched or embedded. */
export function isTopLevelNavigation(method, headers) {
  const mode = headers["sec-fetch-mode"];
  const dest = headers["sec-fetch-dest"];
  if (mode !== undefined || dest !== undefined) {
    return mode === "navigate" && (dest === undefined || dest === "document");
  }
  return (method === "GET" || method === "POST") && (headers.accept ?? "").includes("text/html");
}

function timeOf(at) {
  if (typeof at === "number") return at;
  if (at instanceof Date) return at.getTime();
  if (typeof at === "string" && /([+-]\d{2}:?\d{2}|Z)$/i.test(at)) {
    const ms = Date.parse(at);
    if (!Number.isNaN(ms)) return ms;
  }
  throw new Error("the time of a request must carry its UTC offset");
}

function bodyText(body, peek) {
  if (body === null || body === undefined) return "";
  if (typeof body === "string") {
    // ASCII strings are their own UTF-8 bytes: skip the encode/decode round trip.
    if (body.length <= peek && /^[\x00-\x7f]*$/.test(body)) return body;
    body = ENCODER.encode(body);
  }
  return DECODER.decode(body.subarray(0, peek));
}

function findEndpoint(platform, facts, peek) {
  if (!platform.endpoints.length) return null;
  let text = null;
  for (const endpoint of platform.endpoints) {
    if (!endpoint.methods.has(facts.method)) continue;
    if (endpoint.hosts.size && !endpoint.hosts.has(normaliseHost(facts.host))) continue;
    if (!endpoint.path.test(facts.path)) continue;
    if (endpoint.query !== null && !endpoint.query.test(facts.query)) continue;
    if (endpoint.body !== null) {
      if (text === null) text = bodyText(facts.body, peek);
      if (!endpoint.body.test(text)) continue;
    }
    return endpoint;
  }
  return null;
}

function reasonFor(platform, action, working, account, outcome, rule) {
  const when = working ? "during working time" : "outside working time";
  const what = ACTION_LABELS[action];
  const who = ACCOUNT_WORDS[account];
  const kind = CATEGORY_LABELS[platform.category] ?? platform.category;
  const subject = `${what[0].toUpperCase()}${what.slice(1)} ${platform.name} (${kind})`;
  const parts = who ? [subject, who, when] : [subject, when];
  return `${parts.join(" ")} ${OUTCOME_WORDS[outcome]} (rule ${rule}).`;
}

function pass(facts, working, group, rule, reason) {
  return {
    platform: null,
    category: null,
    action: isTopLevelNavigation(facts.method, facts.headers) ? "browse" : "subresource",
    working_time: working,
    device_group: group,
    account: "unknown",
    outcome: "allow",
    clauses: [],
    reason,
    rule,
    record: false,
    allow_continue: false,
    school_account: null,
  };
}

/**
 * Facts: {host, path="/", query="", method="GET", headers={} (lower-case names), cookies={},
 * body=null (string or Uint8Array), at (ISO string with offset, Date or epoch ms), client=null,
 * device_group=null}. Or give `url` instead of host/path/query.
 */
export function normaliseFacts(raw) {
  const split = raw.host === undefined ? splitUrl(raw.url) : null;
  return {
    host: split ? split.host : raw.host,
    path: split ? split.path : (raw.path ?? "/"),
    query: split ? split.query : (raw.query ?? ""),
    method: raw.method ?? "GET",
    headers: raw.headers ?? {},
    cookies: raw.cookies ?? {},
    body: raw.body ?? null,
    at: raw.at,
    client: raw.client ?? null,
    device_group: raw.device_group ?? null,
  };
}

/** policy.decide(): a Decision as a plain object with the Python field names. */
export function decide(rawFacts, policy) {
  const facts = normaliseFacts(rawFacts);
  const ms = timeOf(facts.at);
  const working = policy.workingTime.at(ms);
  let group = facts.device_group ?? null;
  if (group === null) group = facts.client ? policy.groupForClient(facts.client) : policy.staffGroup;
  const platformId = policy.platformFor(facts.host);
  if (group === null) {
    return pass(
      facts,
      working,
      null,
      OUTSIDE_GROUPS,
      "The device is outside every configured device group, so the policy does not apply to it here.",
    );
  }
  if (platformId === null) return pass(facts, working, group, NOT_SOCIAL, "This site is not social media.");

  const platform = policy.platforms.get(platformId);
  const endpoint = findEndpoint(platform, facts, policy.bodyPeekBytes);
  let action;
  if (endpoint !== null) action = endpoint.action;
  else if (isTopLevelNavigation(facts.method, facts.headers)) action = "browse";
  else action = "subresource";

  let account = "unknown";
  let schoolAccount = null;
  const cookies = facts.cookies;
  const accountId = cookies && Object.keys(cookies).length ? policy.accountId(platform, cookies) : null;
  if (accountId !== null) {
    account = "personal";
    const day = policy.workingTime.local(ms).date;
    for (const spec of policy.accounts.get(`${platform.id}\u0000${accountId}`) || []) {
      if (spec.approvedOn <= day && (spec.expiresOn === null || day <= spec.expiresOn) && spec.actions.has(action)) {
        account = "school";
        schoolAccount = spec.id;
        break;
      }
    }
  }

  const category = platform.category;
  for (const rule of policy.rules) {
    if (
      (rule.actions === null || rule.actions.has(action)) &&
      (rule.categories === null || rule.categories.has(category)) &&
      (rule.platforms === null || rule.platforms.has(platform.id)) &&
      (rule.workingTime === null || working === rule.workingTime) &&
      (rule.accounts === null || rule.accounts.has(account)) &&
      (rule.deviceGroups === null || rule.deviceGroups.has(group))
    ) {
      return {
        platform: platform.id,
        category,
        action,
        working_time: working,
        device_group: group,
        account,
        outcome: rule.outcome,
        clauses: rule.clauses,
        reason: reasonFor(platform, action, working, account, rule.outcome, rule.id),
        rule: rule.id,
        record: rule.record,
        allow_continue: rule.allowContinue,
        school_account: schoolAccount,
      };
    }
  }
  return {
    platform: platform.id,
    category,
    action,
    working_time: working,
    device_group: group,
    account,
    outcome: "allow",
    clauses: [],
    reason: reasonFor(platform, action, working, account, "allow", NO_RULE),
    rule: NO_RULE,
    record: false,
    allow_continue: false,
    school_account: schoolAccount,
  };
}

/** The Decision fields of ARCHITECTURE.md plus the rule (Decision.contract() in Python). */
export function contract(decision) {
  const { platform, category, action, working_time, device_group, account, outcome, clauses, reason, rule } =
    decision;
  return { platform, category, action, working_time, device_group, account, outcome, clauses: [...clauses], reason, rule };
}
