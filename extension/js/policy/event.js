// policy/event.py: the anonymised event, what leaves a sensor. No URL path or query, no address,
// no content, no personal account id, no name: the fields eventFromDecision() writes are all
// there is. WebCrypto for the HMAC, nothing else from the platform.

export const RESPONSES = ["none", "continued", "went_back"];

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
  { eventId, at, sensor, device, policyVersion, granularityMinutes, response = "none", reasonCategory = null },
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
  };
}
