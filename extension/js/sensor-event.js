// The sensor's side of the event (policy/event.js makes the event itself): the device pseudonym
// under the privacy levels, the install id, event ids.
//
// The device is a random install id, never sent: only its HMAC under the day's salt (daily) or a
// long-lived key (stable) leaves, or nothing at all (none). Both the salt and the key are the
// extension's own, made here and kept in chrome.storage.local: the service hands out no secret
// (pseudonyms of different sensors need not agree). The day's salt is replaced when the school's
// local day changes and the old one is overwritten, so a past day's pseudonyms can never be
// linked to the install id again. WebCrypto only.

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

/**
 * The level in force: the bundle's (bundle.privacy.level, else settings.privacy_level), as the
 * proxy takes it. A level the school deliberately set in managed storage (`privacy_level`) counts
 * only where it is stricter: a fleet of laptops may be made more private than the rest (say
 * `none` for laptops taken home), but never less than the level the service publishes, which is
 * what the privacy notice, the DPIA and the warning page tell staff. With no managed level (the
 * usual case) the twins agree.
 */
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
 * The device field of an event of the school's local `day` (YYYY-MM-DD): null (none), the HMAC
 * under this install's long-lived key (stable), or under its salt of that day (daily). One salt per
 * day: a new day replaces (so forgets) the day before's; an event of a day whose salt is already
 * gone gets no device (null) rather than a second pseudonym. The bundle's privacy object carries
 * the level only; a salt or key in it (from an older service) is never used.
 */
export async function devicePseudonym({ storage, level, deviceId, day }) {
  if (level === "none") return null;
  if (level === "stable") {
    let key = (await storage.get([STABLE_KEY]))[STABLE_KEY];
    if (!key) {
      key = randomHex(32);
      await storage.set({ [STABLE_KEY]: key });
    }
    return pseudonym(fromHex(key), deviceId);
  }
  let local = (await storage.get([SALT_KEY]))[SALT_KEY];
  if (local && day < local.date) return null; // that day is over and its salt destroyed
  if (!local || local.date !== day || !local.salt) {
    local = { date: day, salt: randomHex(32) }; // yesterday's salt is overwritten, so forgotten
    await storage.set({ [SALT_KEY]: local });
  }
  return pseudonym(fromHex(local.salt), deviceId);
}

/** At the school's local midnight (checked every minute): destroy a salt of a day before `today`. */
export async function forgetOldSalt(storage, today) {
  const local = (await storage.get([SALT_KEY]))[SALT_KEY];
  if (local && local.salt && local.date < today) {
    await storage.set({ [SALT_KEY]: { date: today, salt: null } }); // no day before today again
    return true;
  }
  return false;
}

export function newEventId() {
  return globalThis.crypto.randomUUID().replaceAll("-", "");
}
