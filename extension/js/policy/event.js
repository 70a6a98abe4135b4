// policy/event.py: the anonymised event, what leaves a sensor. No URL path or query, no address,
// no content, no personal account id, no name: the fields of EVENT_SPECS are all there is, and
// eventProblems() is the check every event passes (tests/vectors/events.json holds the cases both
// languages pass). The field specs are generated from Python (./generated/event-specs.js, by
// scripts/generate_js.py); the checks are written here. WebCrypto for the HMAC.

import { ADDED_FIELDS, BOTH_APPLY_AND_MAY, EVENT_FIELD_SPECS, MAX_CLAUSES, RESPONSES } from "./generated/event-specs.js";

export { ADDED_FIELDS, BOTH_APPLY_AND_MAY, MAX_CLAUSES, RESPONSES };

/** How one event field travels and rests (Python's FieldSpec, less its documentation; every value from EVENT_FIELD_SPECS). */
export class FieldSpec {
  constructor({ name, jsonType, nullable, enumValues, pattern, maxLength, maxItems, problem }) {
    this.name = name;
    this.jsonType = jsonType;
    this.nullable = nullable;
    this.enum = enumValues;
    this.pattern = pattern;
    this.maxLength = maxLength;
    this.maxItems = maxItems;
    this.problem = problem;
  }

  /** True if `value` (as parsed from JSON) is a good value for this field. */
  accepts(value) {
    if (value === null) return this.nullable;
    if (this.jsonType === "boolean") return typeof value === "boolean";
    if (this.jsonType === "array") {
      return (
        Array.isArray(value) &&
        value.length <= (this.maxItems ?? Infinity) &&
        value.every((v) => this._one(v)) &&
        // Stored as one `,6.2,7,` string: the joined ids must fit the column.
        value.reduce((n, v) => n + v.length, 0) + value.length + 1 <= this.maxLength
      );
    }
    return this._one(value);
  }

  _one(value) {
    if (typeof value !== "string") return false;
    if (this.enum.length) return this.enum.includes(value);
    return this.pattern === null || this.pattern.test(value);
  }
}

/** Every field's spec, in the event's order. */
export const EVENT_SPECS = EVENT_FIELD_SPECS.map((spec) => new FieldSpec(spec));
/** The event's field names, in order. */
export const EVENT_FIELDS = EVENT_SPECS.map((s) => s.name);
const SPECS = Object.fromEntries(EVENT_SPECS.map((s) => [s.name, s]));

/**
 * `data` with every added field it leaves out set to the value its absence means (ADDED_FIELDS:
 * fields added after sensors first shipped; an older sensor's event is not refused for lacking them).
 */
export function withAddedFields(data) {
  return { ...ADDED_FIELDS, ...data };
}

/**
 * Everything wrong with one JSON event against the contract, as [field, message] pairs; empty
 * when it is a good event. Every field is checked, so a sensor learns all its mistakes at once.
 */
export function eventProblems(data) {
  if (data === null || typeof data !== "object" || Array.isArray(data)) return [["", "an event is a JSON object"]];
  const keys = Object.keys(data);
  const problems = keys
    .filter((k) => !Object.hasOwn(SPECS, k))
    .sort()
    .map((k) => [k.slice(0, 64), "unknown field"]);
  for (const name of EVENT_FIELDS) {
    if (!Object.hasOwn(data, name) && !Object.hasOwn(ADDED_FIELDS, name)) problems.push([name, "required field is missing"]);
  }
  for (const spec of EVENT_SPECS) {
    if (Object.hasOwn(data, spec.name) && !spec.accepts(data[spec.name])) problems.push([spec.name, spec.problem]);
  }
  if (SPECS.time.accepts(data.time) && !realTime(data.time)) problems.push(["time", "not a real date and time"]);
  // A clause either applies or may apply (a message: 8.1 only may), never both.
  if (SPECS.may_apply.accepts(data.may_apply) && SPECS.clauses.accepts(data.clauses)) {
    if (data.may_apply.some((c) => data.clauses.includes(c))) problems.push(["may_apply", BOTH_APPLY_AND_MAY]);
  }
  const reason = data.reason_category;
  if (reason !== null && reason !== undefined && SPECS.reason_category.accepts(reason) && data.response !== "continued") {
    problems.push(["reason_category", "only an event with response 'continued' has one"]);
  }
  return problems;
}

/** True if a time of the right form is a real date and time (not the 30th of February). */
export function realTime(value) {
  const [y, mo, d, h, mi, s] = value.match(/[0-9]+/g).map(Number);
  const t = new Date(0);
  t.setUTCFullYear(y, mo - 1, d); // not Date.UTC, which reads years 0-99 as 1900-1999
  t.setUTCHours(h, mi, s, 0);
  return (
    y >= 1 &&
    t.getUTCFullYear() === y &&
    t.getUTCMonth() === mo - 1 &&
    t.getUTCDate() === d &&
    t.getUTCHours() === h &&
    t.getUTCMinutes() === mi &&
    t.getUTCSeconds() === s
  );
}

/** Round down to `minutes` in UTC, so an event's time says when, but not to the second. */
export function coarsen(at, minutes) {
  const down = Math.floor(at / 60_000) * 60_000;
  const t = down - (new Date(down).getUTCMinutes() % minutes) * 60_000;
  return `${new Date(t).toISOString().slice(0, 19)}Z`;
}

/** HMAC-SHA256 of the device id under the day's salt or the long-lived key (hex, 128 bits). */
export async function pseudonym(key, deviceId) {
  const hmacKey = await globalThis.crypto.subtle.importKey("raw", key, { name: "HMAC", hash: "SHA-256" }, false, [
    "sign",
  ]);
  const mac = await globalThis.crypto.subtle.sign("HMAC", hmacKey, new TextEncoder().encode(deviceId));
  return [...new Uint8Array(mac)]
    .map((b) => b.toString(16).padStart(2, "0"))
    .join("")
    .slice(0, 32);
}

/** The event of `decision` at `at` (epoch ms), a plain object with the Python field names. */
export function eventFromDecision(
  decision,
  { eventId, at, sensor, device, policyVersion, granularityMinutes, response = "none", reasonCategory = null, held = false },
) {
  if (decision.platform === null || decision.category === null || decision.device_group === null) {
    throw new Error("only decisions about a catalogue platform on a known device group record");
  }
  if (!RESPONSES.includes(response)) throw new Error(`response must be one of ${RESPONSES}, not ${response}`);
  return {
    id: eventId,
    time: coarsen(at, granularityMinutes),
    sensor,
    device,
    platform: decision.platform,
    category: decision.category,
    action: decision.action,
    outcome: decision.outcome,
    clauses: [...decision.clauses],
    rule: decision.rule,
    working_time: decision.working_time,
    device_group: decision.device_group,
    account: decision.account,
    school_account: decision.school_account,
    policy_version: policyVersion,
    response,
    reason_category: response === "continued" ? reasonCategory : null,
    held: Boolean(held),
    may_apply: [...(decision.may_apply ?? [])],
  };
}
