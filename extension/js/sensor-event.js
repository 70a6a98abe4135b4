// The sensor's side of the event (policy/event.js makes the event itself): the device pseudonym
// under the privacy levels, the install id, event ids.
//
// The device is a random install id, never sent: only its HMAC under the day's salt (daily) or the
// service's long-lived key (stable) leaves, or nothing at all (none). WebCrypto only.

import { pseudonym } from "./policy/event.js";

export const SALT_KEY = "privacy.daily_salt";
export const STABLE_KEY = "privacy.stable_key";
export const INSTALL_KEY = "install.id";
const STRICTNESS = { stable: 0, daily: 1, none: 2 };

export const hex = (bytes) => [...new Uint8Array(bytes)].map((b) => b.toString(16).padStart(2, "0")).join("");
export const fromHex = (text) => new Uint8Array(text.match(/../g).map((h) => parseInt(h, 16)));

export function randomHex(bytes) {
  return hex(globalThis.crypto.getRandomValues(new Uint8Array(bytes)));
}

/** The level in force: the service's (bundle.privacy) or the school's setting, whichever is stricter. */
export function privacyLevel(bundle, managedLevel) {
  const service = (bundle.privacy && bundle.privacy.level) || bundle.settings.privacy_level || "daily";
  const candidates = [service, managedLevel].filter((l) => l in STRICTNESS);
  if (!candidates.length) return "daily";
  return candidates.reduce((a, b) => (STRICTNESS[b] > STRICTNESS[a] ? b : a));
}

/** The install id: random, made once, kept in storage, never sent. */
export async function installId(storage) {
  const got = (await storage.get([INSTALL_KEY]))[INSTALL_KEY];
  if (got) return got;
  const id = randomHex(16);
  await storage.set({ [INSTALL_KEY]: id });
  return id;
}

/**
 * The device field of an event at `ms`: null (none), HMAC under the service key or a local key
 * (stable), or under the service's salt for the school's day, else a local salt kept for that day
 * only and replaced the next day (daily).
 */
export async function devicePseudonym({ storage, bundle, level, deviceId, day }) {
  if (level === "none") return null;
  const privacy = bundle.privacy || {};
  if (level === "stable") {
    if (privacy.key) return pseudonym(fromHex(privacy.key), deviceId);
    let key = (await storage.get([STABLE_KEY]))[STABLE_KEY];
    if (!key) {
      key = randomHex(32);
      await storage.set({ [STABLE_KEY]: key });
    }
    return pseudonym(fromHex(key), deviceId);
  }
  if (privacy.salt && privacy.salt_date === day) return pseudonym(fromHex(privacy.salt), deviceId);
  let local = (await storage.get([SALT_KEY]))[SALT_KEY];
  if (!local || local.date !== day) {
    local = { date: day, salt: randomHex(32) }; // yesterday's salt is overwritten, so forgotten
    await storage.set({ [SALT_KEY]: local });
  }
  return pseudonym(fromHex(local.salt), deviceId);
}

export function newEventId() {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}
