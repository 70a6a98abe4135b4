/**
 * Session storage entries that carry a warned or held URL are kept only while they can be
 * answered: the warning flow and the held acts both forget the rest with this.
 */

/** Remove entries whose key starts with one of `prefixes` and whose `at` is older than `maxAgeMs`. */
export async function forgetStale(session, prefixes, maxAgeMs, at) {
  const all = await session.get(null);
  const stale = Object.entries(all ?? {})
    .filter(([k, v]) => prefixes.some((p) => k.startsWith(p)) && !(at - (v?.at ?? 0) <= maxAgeMs))
    .map(([k]) => k);
  if (stale.length) await session.remove(stale);
}
