// The bundle cache: ETag, 304, a refused bundle never replaces a good one, built-in until then.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { currentBundle, refreshBundle } from "../js/bundle-source.js";
import { FileStorage, serve } from "./helpers.js";

const BUILT_IN = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
const FROM_SERVICE = { ...BUILT_IN, version: "fromservice00001", privacy: { level: "daily", salt: "ab".repeat(32), salt_date: "2026-11-25" } };

test("the built-in bundle is used until the first fetch succeeds", async () => {
  const storage = new FileStorage();
  assert.equal((await currentBundle(storage, BUILT_IN)).source, "built-in");
  const result = await refreshBundle(storage, { serviceUrl: "http://127.0.0.1:9", token: "t", fetch, now: Date.now });
  assert.equal(result.status, "failed");
  const current = await currentBundle(storage, BUILT_IN);
  assert.equal(current.source, "built-in");
  assert.equal(current.bundle.version, BUILT_IN.version);
});

test("the service's bundle is cached with its ETag and revalidated with If-None-Match", async () => {
  const storage = new FileStorage();
  const etag = '"fromservice00001-2026-11-25"';
  const service = await serve((req) =>
    req.headers["if-none-match"] === etag
      ? { status: 304, headers: { ETag: etag } }
      : { status: 200, headers: { ETag: etag, "Content-Type": "application/json" }, body: FROM_SERVICE },
  );
  try {
    const options = { serviceUrl: service.url, token: "t0k", fetch, now: Date.now };
    assert.equal((await refreshBundle(storage, options)).status, "updated");
    assert.equal((await refreshBundle(storage, options)).status, "unchanged");
    assert.equal(service.requests[0].headers.authorization, "Bearer t0k");
    assert.equal(service.requests[1].headers["if-none-match"], etag);
    // After a restart (a new storage object on the same file) the cache is still there.
    const current = await currentBundle(new FileStorage(storage.path), BUILT_IN);
    assert.equal(current.source, "service");
    assert.equal(current.bundle.version, "fromservice00001");
    assert.equal(current.etag, etag);
  } finally {
    await service.close();
  }
});

test("a bundle the engine refuses never replaces the last good one", async () => {
  const storage = new FileStorage();
  let good = true;
  const service = await serve(() => ({ status: 200, headers: { ETag: good ? '"a"' : '"b"' }, body: good ? FROM_SERVICE : { version: "x" } }));
  try {
    const options = { serviceUrl: service.url, token: "t", fetch, now: Date.now };
    assert.equal((await refreshBundle(storage, options)).status, "updated");
    good = false;
    const bad = await refreshBundle(storage, options);
    assert.equal(bad.status, "failed");
    assert.match(bad.error, /not a usable policy bundle/);
    assert.equal((await currentBundle(storage, BUILT_IN)).bundle.version, "fromservice00001");
    const sync = (await storage.get(["bundle.sync"]))["bundle.sync"];
    assert.ok(sync.last_success && sync.last_error);
  } finally {
    await service.close();
  }
});
