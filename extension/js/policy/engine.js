// policy/engine.py: the bundle, loaded into indexes that make each decision a handful of map
// lookups. Build with `new Policy(bundle)`; a bundle it cannot use throws BundleError.

import { networkContains, parseAddress, parseNetwork, unmapped } from "./ip.js";
import { pyRegex } from "./py-regex.js";
import { unquote } from "./py-url.js";
import { HostClassifier } from "./hosts.js";
import { WorkingTime, daysBetween, parseHhmm } from "./schedule.js";

export const ANY = null;

/** Python raises ValueError for a bundle it cannot use; JS throws this. */
export class BundleError extends Error {}

export class EndpointSpec {
  constructor({ action, methods, path, query, body, hosts, pathAnyCase = null, source = null, verifiedOn = null }) {
    this.action = action;
    this.methods = methods;
    this.path = path;
    /** `path` without regard to case, for the canonical path (ASCII: canonical.js path()). */
    this.pathAnyCase = pathAnyCase;
    this.query = query;
    this.body = body;
    this.hosts = hosts;
    this.source = source;
    this.verifiedOn = verifiedOn;
  }
}

/** A part of a platform (config.Area): its host names (each with its subdomains) and path. */
export class AreaSpec {
  constructor({ name, domains, path, query, use, category, opening }) {
    this.name = name;
    this.domains = domains;
    this.path = path;
    this.query = query;
    this.use = use;
    this.category = category;
    this.opening = opening;
  }

  /** `host` is normalised (hosts.js untranslated). */
  matches(host, path, query) {
    if (this.domains.length && !this.domains.some((d) => host === d || host.endsWith(`.${d}`))) return false;
    if (this.path !== null && !this.path.test(path)) return false;
    return this.query === null || this.query.test(query);
  }
}

export class PlatformSpec {
  constructor({ id, name, category, accountCookies, endpoints, areas = [] }) {
    this.id = id;
    this.name = name;
    this.category = category;
    this.accountCookies = accountCookies;
    this.endpoints = endpoints;
    this.areas = areas;
  }
}

export class RuleSpec {
  constructor(fields) {
    Object.assign(this, fields);
  }

  matches(category, platform, action, working, group, account) {
    return (
      (this.actions === ANY || this.actions.has(action)) &&
      (this.categories === ANY || this.categories.has(category)) &&
      (this.platforms === ANY || this.platforms.has(platform)) &&
      (this.workingTime === ANY || working === this.workingTime) &&
      (this.accounts === ANY || this.accounts.has(account)) &&
      (this.deviceGroups === ANY || this.deviceGroups.has(group))
    );
  }
}

export class AccountSpec {
  constructor(fields) {
    this.kind = null;
    Object.assign(this, fields);
  }

  /** Whether an id of `kind`, doing `action` on `day`, is this approved account (kind null: any kind but a Page). */
  matches(kind, action, day) {
    const rightKind = this.kind === null ? kind !== "page" : kind === this.kind;
    return rightKind && this.actions.has(action) && this.activeOn(day);
  }

  activeOn(day) {
    return this.approvedOn <= day && (this.expiresOn === null || day <= this.expiresOn);
  }
}

function _optionalSet(values) {
  return values === null || values === undefined ? null : new Set(values);
}

/** The bundle's patterns are Python's (re.ASCII): py-regex.js makes them match the same. */
function _compile(pattern) {
  return pyRegex(pattern);
}

function _regex(pattern) {
  return pattern === null || pattern === undefined ? null : _compile(pattern);
}

// JS has no KeyError: a missing field throws here, as indexing does in Python.
function _need(value, what) {
  if (value === undefined || value === null) throw new TypeError(`missing ${what}`);
  return value;
}

/** date.fromisoformat */
function _date(text) {
  if (typeof text !== "string" || !/^\d{4}-\d{2}-\d{2}$/.test(text)) {
    throw new TypeError(`not a date: ${JSON.stringify(text)}`);
  }
  return text;
}

/** A loaded bundle; immutable afterwards. */
export class Policy {
  constructor(bundle) {
    try {
      this._load(bundle);
    } catch (err) {
      throw new BundleError(`not a usable policy bundle: ${err.name}: ${err.message}`);
    }
  }

  /** Host -> the other platforms whose endpoints name that host: an app of one platform that sends
   * its acts to another's host (Threads on i.instagram.com) is told apart by the endpoint, which
   * claims the request for its own platform (tried before the host's own). As engine.py _claims. */
  _claims() {
    const claims = new Map();
    for (const spec of this.platforms.values()) {
      const named = [...new Set(spec.endpoints.flatMap((e) => [...e.hosts]))].sort();
      for (const host of named) {
        const owner = this.classifier.platformFor(host);
        if (owner === null || owner === spec.id) continue;
        const endpoints = spec.endpoints.filter((e) => e.hosts.has(host));
        if (!claims.has(host)) claims.set(host, []);
        claims.get(host).push([spec, endpoints]);
      }
    }
    return claims;
  }

  _load(bundle) {
    this.bundle = bundle;
    this.version = _need(bundle.version, "version");
    this.policyVersion = _need(bundle.policy_version, "policy_version");
    this.schoolName = _need(bundle.school, "school").name;
    // The clauses' texts are read by the warning page straight from the bundle (warning.js).
    if (!Array.isArray(bundle.clauses)) throw new TypeError("missing clauses");
    const domains = [];
    const hosts = [];
    const tlds = [];
    this.platforms = new Map();
    for (const p of bundle.platforms) {
      for (const d of p.domains) domains.push([d, p.id]);
      for (const h of p.hosts || []) hosts.push([h, p.id]);
      for (const t of p.tlds || []) tlds.push([t, p.id]);
      this.platforms.set(
        p.id,
        new PlatformSpec({
          id: p.id,
          name: _need(p.name, "platform name"),
          category: _need(p.category, "platform category"),
          accountCookies: (p.account_cookies || []).map((c) => [c.name, _compile(c.pattern), c.kind || "account"]),
          endpoints: (p.endpoints || []).map(
            (e) =>
              new EndpointSpec({
                action: e.action,
                methods: new Set(e.methods),
                path: _compile(e.path),
                query: _regex(e.query),
                body: _regex(e.body),
                hosts: new Set(e.hosts || []),
                pathAnyCase: pyRegex(e.path, { ignoreCase: true }),
                source: e.source ?? null,
                verifiedOn: e.verified_on ?? null,
              }),
          ),
          areas: (p.areas || []).map(
            (a) =>
              new AreaSpec({
                name: _need(a.name, "area name"),
                domains: [...(a.domains || [])],
                path: _regex(a.path),
                query: _regex(a.query),
                use: a.use || "app",
                category: a.category ?? null,
                opening: a.opening ?? null,
              }),
          ),
        }),
      );
    }
    this.classifier = new HostClassifier(domains, hosts, tlds);
    this.claims = this._claims();

    const schedule = _need(bundle.schedule, "schedule");
    const closed = schedule.bank_holidays.map((d) => _date(d.date));
    for (const closure of schedule.closures) closed.push(...daysBetween(_date(closure.start), _date(closure.end)));
    this.workingTime = new WorkingTime(
      _need(schedule.time_zone, "schedule.time_zone"),
      Object.fromEntries(
        Object.entries(schedule.working_hours).map(([day, ranges]) => [
          day,
          ranges.map(([a, b]) => [parseHhmm(a), parseHhmm(b)]),
        ]),
      ),
      schedule.terms.map((t) => [_date(t.start), _date(t.end)]),
      closed,
      schedule.inset_days.map((d) => _date(d.date)),
    );

    this.deviceGroups = bundle.device_groups.map((g) => [g.id, g.networks.map(parseNetwork)]);
    this.staffGroup = _need(bundle.staff_group, "staff_group");
    // (device group, platform) -> the school accounts device group's approval.
    this.deviceAccounts = new Map();
    for (const g of bundle.device_groups) {
      const held = g.school_accounts;
      if (!held) continue;
      for (const platformId of held.platforms) {
        this.deviceAccounts.set(
          accountKey(g.id, platformId),
          new AccountSpec({
            id: g.id,
            platform: platformId,
            accountId: "",
            label: g.label,
            approvedOn: _date(held.approved_on),
            expiresOn: held.expires_on ? _date(held.expires_on) : null,
            actions: new Set(held.actions),
            kind: null,
          }),
        );
      }
    }

    this.rules = bundle.rules.map(
      (r) =>
        new RuleSpec({
          id: r.id,
          description: r.description,
          categories: _optionalSet(r.match.categories),
          platforms: _optionalSet(r.match.platforms),
          actions: _optionalSet(r.match.actions),
          workingTime: r.match.working_time ?? ANY,
          deviceGroups: _optionalSet(r.match.device_groups),
          accounts: _optionalSet(r.match.accounts),
          outcome: _need(r.outcome, "rule outcome"),
          // The clauses that apply: the rule's clauses but those that only may apply.
          clauses: r.clauses.filter((c) => !(r.may_apply ?? []).includes(c)),
          mayApply: [...(r.may_apply ?? [])],
          mayApplyIf: r.may_apply_if ?? null,
          record: Boolean(r.record),
          allowContinue: Boolean(r.allow_continue),
        }),
    );

    this.accounts = new Map();
    for (const a of bundle.accounts) {
      const spec = new AccountSpec({
        id: a.id,
        platform: a.platform,
        accountId: String(a.account_id),
        label: a.label,
        approvedOn: _date(a.approved_on),
        expiresOn: a.expires_on ? _date(a.expires_on) : null,
        actions: new Set(a.actions),
        kind: a.kind ?? null,
      });
      const key = accountKey(spec.platform, spec.accountId);
      this.accounts.set(key, [...(this.accounts.get(key) || []), spec]);
    }
    this.settings = _need(bundle.settings, "settings");
    this.bodyPeekBytes = Number(this.settings.body_peek_bytes);
    if (!Number.isInteger(this.bodyPeekBytes)) throw new TypeError("settings.body_peek_bytes");
  }

  /** The device group of a client address, or null (Python caches this in an LRU). */
  groupForClient(client) {
    const address = parseAddress(client.split("%", 1)[0]);
    if (address === null) return null;
    const plain = unmapped(address);
    for (const [groupId, networks] of this.deviceGroups) {
      if (networks.some((net) => networkContains(net, plain))) return groupId;
    }
    return null;
  }

  /** The logged-in account id read from the platform's cookies, if any. */
  accountId(platform, cookies) {
    const identity = this.accountIdentity(platform, cookies);
    return identity === null ? null : identity[1];
  }

  /** [kind, id] of the account in use, from the first of the platform's cookies that carries one
   * (a Page's cookie comes first: while someone acts as a Page it is the Page). */
  accountIdentity(platform, cookies) {
    for (const [name, pattern, kind] of platform.accountCookies) {
      const value = Object.hasOwn(cookies, name) ? cookies[name] : undefined;
      if (value) {
        const match = pattern.exec(unquote(value));
        if (match && match[1]) return [kind, match[1]];
      }
    }
    return null;
  }
}

/** The key of `Policy.accounts` (a (platform, account_id) tuple in Python). */
export function accountKey(platform, accountId) {
  return `${platform}\u0000${accountId}`;
}
