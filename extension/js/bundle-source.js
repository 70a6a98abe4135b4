// Where the policy bundle comes from: the service's GET /api/v1/bundle (ETag, cached in storage),
// else the default bundle built into the package until the first fetch succeeds.
//
// `storage` is chrome.storage.local-like (get/set promises); `fetch` and `now` are given, so Node's
// tests run this against a real local HTTP server.

import { Policy } from "./policy/engine.js";

export const CACHE_KEY = "bundle.cache";
export const SYNC_KEY = "bundle.sync";
export const META_KEY = "bundle.meta"; // {etag, version}: cheap to read on every navigation

/** The bundle to decide with: the cached service bundle if there is a usable one, else `fallback`. */
export async function currentBundle(storage, fallback) {
  const cached = (await storage.get([CACHE_KEY]))[CACHE_KEY];
  if (cached && cached.bundle) {
    try {
      new Policy(cached.bundle);
      return { bundle: cached.bundle, source: "service", etag: cached.etag ?? null };
    } catch {
      // a damaged cache falls back to the built-in bundle
    }
  }
  return { bundle: fallback, source: "built-in", etag: null };
}

/**
 * Ask the service for a newer bundle. Returns {status: "updated" | "unchanged" | "failed", ...}.
 * A bundle that the engine refuses is never cached: the last good one stays in force.
 */
export async function refreshBundle(storage, { serviceUrl, token, fetch, now }) {
  if (!serviceUrl || !token) return { status: "failed", error: "not configured" };
  const cached = (await storage.get([CACHE_KEY]))[CACHE_KEY];
  const headers = { Authorization: `Bearer ${token}`, Accept: "application/json" };
  if (cached && cached.etag) headers["If-None-Match"] = cached.etag;
  const sync = { last_attempt: new Date(now()).toISOString() };
  let result;
  try {
    const response = await fetch(`${serviceUrl.replace(/\/+$/, "")}/api/v1/bundle`, { headers, cache: "no-store" });
    if (response.status === 304 && cached) {
      result = { status: "unchanged", version: cached.bundle.version };
    } else if (response.status === 200) {
      const bundle = await response.json();
      new Policy(bundle); // throws BundleError on a bad bundle
      const etag = response.headers.get("ETag");
      await storage.set({ [CACHE_KEY]: { etag, bundle }, [META_KEY]: { etag, version: bundle.version } });
      result = { status: "updated", version: bundle.version };
    } else {
      throw new Error(`GET /api/v1/bundle answered ${response.status}`);
    }
    sync.last_success = sync.last_attempt;
    sync.last_error = null;
  } catch (err) {
    result = { status: "failed", error: String(err.message ?? err) };
    sync.last_error = result.error;
  }
  const previous = (await storage.get([SYNC_KEY]))[SYNC_KEY] ?? {};
  await storage.set({ [SYNC_KEY]: { ...previous, ...sync } });
  return result;
}
