// One credential per laptop: a key pair made once (private key non-extractable), enrolled once,
// a session got by signing the service's challenge, renewed only when due.
import { test } from "node:test";
import assert from "node:assert/strict";

import { Credential, signedText } from "../js/credential.js";

function memoryStore() {
  let record;
  return { get: async () => record, put: async (r) => void (record = r), peek: () => record };
}

/** A stand-in service that checks the signature with the enrolled public key. */
function service({ waiting = false } = {}) {
  const calls = [];
  let publicKey = null;
  let n = 0;
  const fetch = async (url, init) => {
    const path = new URL(url).pathname;
    calls.push(path);
    const reply = (status, body) => ({ status, json: async () => body });
    if (path === "/api/v1/enrol") {
      assert.equal(init.headers.Authorization, "Bearer cwe_secret");
      const der = Uint8Array.from(atob(JSON.parse(init.body).public_key), (c) => c.charCodeAt(0));
      publicKey = await crypto.subtle.importKey("spki", der, { name: "ECDSA", namedCurve: "P-256" }, false, ["verify"]);
      return reply(201, { sensor: "laptop-0123456789abcdef", waiting });
    }
    if (path === "/api/v1/enrol/challenge") return reply(200, { challenge: `c${++n}` });
    if (path === "/api/v1/session") {
      const body = JSON.parse(init.body);
      const sig = Uint8Array.from(atob(body.signature), (c) => c.charCodeAt(0));
      const ok = await crypto.subtle.verify(
        { name: "ECDSA", hash: "SHA-256" },
        publicKey,
        sig,
        new TextEncoder().encode(signedText(body.sensor, body.challenge)),
      );
      return ok ? reply(200, { token: `cwl_${n}`, expires_at: "2026-12-07T11:00:00Z" }) : reply(403, { error: "bad signature" });
    }
    return reply(404, {});
  };
  return { fetch, calls };
}

const config = { serviceUrl: "https://cw.school.example/", enrolmentSecret: "cwe_secret" };

test("first start makes a non-extractable key, enrols it and signs for a session; renewal only when due", async () => {
  const store = memoryStore();
  const svc = service();
  let now = Date.parse("2026-12-07T10:00:00Z");
  const credential = new Credential({ store, fetch: svc.fetch, now: () => now });
  const first = await credential.session(config);
  assert.deepEqual(first, { token: "cwl_1", sensor: "laptop-0123456789abcdef", waiting: false, error: null });
  assert.equal(store.peek().privateKey.extractable, false);
  await assert.rejects(crypto.subtle.exportKey("pkcs8", store.peek().privateKey));
  assert.deepEqual(svc.calls, ["/api/v1/enrol", "/api/v1/enrol/challenge", "/api/v1/session"]);
  // A restart (a new Credential on the same store) keeps the key and the session until it is due.
  const again = new Credential({ store, fetch: svc.fetch, now: () => now });
  assert.equal((await again.session(config)).token, "cwl_1");
  assert.equal(svc.calls.length, 3);
  now = Date.parse("2026-12-07T10:56:00Z");
  assert.equal((await again.session(config)).token, "cwl_2");
  assert.deepEqual(svc.calls.slice(3), ["/api/v1/enrol/challenge", "/api/v1/session"]); // not enrolled again
});

test("an enrolment beyond the fleet waits, with no token, and asks again later", async () => {
  const store = memoryStore();
  const svc = service({ waiting: true });
  const credential = new Credential({ store, fetch: svc.fetch });
  const got = await credential.session(config);
  assert.equal(got.token, "");
  assert.equal(got.waiting, true);
  await credential.session(config);
  assert.deepEqual(svc.calls, ["/api/v1/enrol", "/api/v1/enrol"]);
});

test("a 401 to the current token makes the next use sign for a new session", async () => {
  const store = memoryStore();
  const svc = service();
  const credential = new Credential({ store, fetch: svc.fetch, now: () => Date.parse("2026-12-07T10:00:00Z") });
  const first = await credential.session(config);
  await credential.refused("Bearer someone-else");
  assert.equal((await credential.session(config)).token, first.token);
  await credential.refused(`Bearer ${first.token}`);
  const renewed = await credential.session(config);
  assert.notEqual(renewed.token, first.token);
  assert.deepEqual(svc.calls.slice(-2), ["/api/v1/enrol/challenge", "/api/v1/session"]);
});
