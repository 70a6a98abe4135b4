// One credential per laptop (issue 16 §1; docs/sensor-api.md "Enrolment"). The managed policy
// holds only an enrolment secret, which anyone at the laptop can read and which can do nothing but
// enrol. At first start the extension makes an ECDSA P-256 key pair with WebCrypto, its private key
// non-extractable, kept in the extension's IndexedDB (which survives restarts); it enrols the public
// key (POST /api/v1/enrol) and is known to the service by a name made from the key's fingerprint,
// which the options page shows. Its bearer token is a short-lived session, got by signing a fresh
// challenge from the service (GET /api/v1/enrol/challenge, POST /api/v1/session).

const DB_NAME = "clausewarden-credential";
const STORE = "credential";
const RECORD = "laptop";
const RENEW_BEFORE_MS = 5 * 60 * 1000;

/** The extension's IndexedDB store of its one credential record (CryptoKeys are stored as is). */
export function indexedDbStore(indexedDB = globalThis.indexedDB) {
  const open = () =>
    new Promise((resolve, reject) => {
      const req = indexedDB.open(DB_NAME, 1);
      req.onupgradeneeded = () => req.result.createObjectStore(STORE);
      req.onsuccess = () => resolve(req.result);
      req.onerror = () => reject(req.error);
    });
  const run = async (mode, act) => {
    const db = await open();
    try {
      return await new Promise((resolve, reject) => {
        const tx = db.transaction(STORE, mode);
        const req = act(tx.objectStore(STORE));
        tx.oncomplete = () => resolve(req.result);
        tx.onerror = () => reject(tx.error);
      });
    } finally {
      db.close();
    }
  };
  return {
    get: () => run("readonly", (s) => s.get(RECORD)),
    put: (record) => run("readwrite", (s) => s.put(record, RECORD)),
  };
}

function base64(bytes) {
  return btoa(String.fromCharCode(...new Uint8Array(bytes)));
}

/** The text signed for a session: named, so the signature means nothing anywhere else. */
export function signedText(sensor, challenge) {
  return `clausewarden-session\n${sensor}\n${challenge}`;
}

export class Credential {
  constructor({ store, fetch, now = Date.now, subtle = globalThis.crypto.subtle }) {
    this._store = store;
    this._fetch = fetch;
    this._now = now;
    this._subtle = subtle;
    this._pending = null;
  }

  /** `{token, sensor, waiting, error}` for `config` (serviceUrl, enrolmentSecret); one at a time. */
  session(config) {
    if (!this._pending) {
      this._pending = this._session(config).finally(() => {
        this._pending = null;
      });
    }
    return this._pending;
  }

  /** The service refused `authorization` (401: the session ended early, e.g. a restored
   * database): if it is this laptop's current token, forget it so the next use signs afresh. */
  async refused(authorization) {
    const record = await this._store.get();
    if (record && record.token && authorization === `Bearer ${record.token}`) {
      await this._store.put({ ...record, token: null, expiresAt: 0 });
    }
  }

  /** The stored record, with a key pair made at first use. */
  async _record() {
    let record = await this._store.get();
    if (!record) {
      const keys = await this._subtle.generateKey({ name: "ECDSA", namedCurve: "P-256" }, false, ["sign", "verify"]);
      const spki = await this._subtle.exportKey("spki", keys.publicKey); // the public part only
      record = { privateKey: keys.privateKey, publicKey: base64(spki), sensor: null, service: null };
      await this._store.put(record);
    }
    return record;
  }

  async _json(url, init) {
    const response = await this._fetch(url, { ...init, credentials: "omit", cache: "no-store" });
    let body = {};
    try {
      body = await response.json();
    } catch {
      body = {};
    }
    return { status: response.status, body };
  }

  async _session({ serviceUrl, enrolmentSecret }) {
    const base = serviceUrl.replace(/\/+$/, "");
    let record = await this._record();
    if (record.service !== base) record = { ...record, sensor: null, token: null, expiresAt: 0, service: base };
    if (record.token && record.expiresAt - RENEW_BEFORE_MS > this._now()) {
      return { token: record.token, sensor: record.sensor, waiting: false, error: null };
    }
    if (!record.sensor || record.waiting) {
      const enrolled = await this._json(`${base}/api/v1/enrol`, {
        method: "POST",
        headers: { Authorization: `Bearer ${enrolmentSecret}`, "Content-Type": "application/json" },
        body: JSON.stringify({ public_key: record.publicKey }),
      });
      if (enrolled.status !== 201) return { token: "", sensor: record.sensor, waiting: false, error: enrolled.body.error ?? `enrolment refused (${enrolled.status})` };
      record = { ...record, sensor: enrolled.body.sensor, waiting: enrolled.body.waiting === true };
      await this._store.put(record);
      if (record.waiting) return { token: "", sensor: record.sensor, waiting: true, error: "waiting for the admin's approval" };
    }
    const { body: asked } = await this._json(`${base}/api/v1/enrol/challenge`, { method: "GET" });
    const signature = await this._subtle.sign(
      { name: "ECDSA", hash: "SHA-256" },
      record.privateKey,
      new TextEncoder().encode(signedText(record.sensor, asked.challenge)),
    );
    const opened = await this._json(`${base}/api/v1/session`, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ sensor: record.sensor, challenge: asked.challenge, signature: base64(signature) }),
    });
    if (opened.status !== 200) return { token: "", sensor: record.sensor, waiting: false, error: opened.body.error ?? `session refused (${opened.status})` };
    record = { ...record, token: opened.body.token, expiresAt: Date.parse(opened.body.expires_at) };
    await this._store.put(record);
    return { token: record.token, sensor: record.sensor, waiting: false, error: null };
  }
}
