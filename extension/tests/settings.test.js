// The sensor token never goes over plain http to another machine unless the school says so.
import { test } from "node:test";
import assert from "node:assert/strict";

import { isLoopbackHost, plainHttpRefusal, readSettings } from "../js/settings.js";

const none = { get: async () => ({}) };

test("https and loopback services get the token; plain http to another machine does not", async () => {
  for (const url of ["https://cw.school.example", "http://127.0.0.1:8080", "http://localhost:8080", "http://[::1]:8080"]) {
    const s = await readSettings(async () => ({ service_url: url, sensor_token: "cws_x" }), none);
    assert.equal(s.token, "cws_x", url);
    assert.equal(s.refused, null, url);
  }
  const s = await readSettings(async () => ({ service_url: "http://10.0.0.5:8080", sensor_token: "cws_x" }), none);
  assert.equal(s.token, "");
  assert.match(s.refused, /^service_url http:\/\/10\.0\.0\.5:8080 is plain http .*https:\/\/.*allow_plain_http/);
  assert.match(s.source, /^managed storage; service_url http:\/\/10\.0\.0\.5:8080 is plain http/);
});

test("allow_plain_http true (and only true) lets the school send it anyway", async () => {
  const allowed = await readSettings(
    async () => ({ service_url: "http://cw.school.lan", sensor_token: "cws_x", allow_plain_http: true }),
    none,
  );
  assert.equal(allowed.token, "cws_x");
  const truthy = await readSettings(
    async () => ({ service_url: "http://cw.school.lan", sensor_token: "cws_x", allow_plain_http: "yes" }),
    none,
  );
  assert.equal(truthy.token, "");
});

test("loopback is only what never leaves the machine", () => {
  for (const host of ["localhost", "app.localhost", "127.0.0.1", "127.9.8.7", "[::1]"]) assert.ok(isLoopbackHost(host), host);
  for (const host of ["10.0.0.1", "localhost.school.lan", "127.0.0.1.nip.io", "[::2]"]) assert.ok(!isLoopbackHost(host), host);
  assert.equal(plainHttpRefusal("not a url"), null);
  assert.equal(plainHttpRefusal(""), null);
});
