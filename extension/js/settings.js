// The school's settings (service URL, sensor token and name, privacy level) from managed storage,
// read once and kept until managed storage changes; and the worker's clock. The sensor token is
// never given to a plain-http service on another machine unless `allow_plain_http` is true.

// Honoured only while managed storage is empty: lets the Playwright test point an unpacked
// extension at a local service (a browser can't be given managed policy from a test). On a
// school deployment managed storage is set, so this key is ignored.
export const OVERRIDE_KEY = "test.managed_override";
// Same rule: a clock offset (ms) so the test can stand in working time whenever it runs.
export const CLOCK_KEY = "test.clock_offset_ms";

/** `managed()` gives managed storage ({} when none); `local` is chrome.storage.local-like. */
export async function readSettings(managed, local) {
  let values = await managed();
  let source = "managed storage";
  let clockOffset = 0;
  if (!Object.keys(values).length) {
    const stored = await local.get([OVERRIDE_KEY, CLOCK_KEY]);
    values = stored[OVERRIDE_KEY] ?? {};
    source = Object.keys(values).length ? "local test override (managed storage is empty)" : "not configured";
    clockOffset = Number(stored[CLOCK_KEY]) || 0;
  }
  const serviceUrl = typeof values.service_url === "string" ? values.service_url : "";
  const refused = plainHttpRefusal(serviceUrl, values.allow_plain_http === true);
  if (refused) console.warn(`ClauseWarden: ${refused}`);
  return {
    clockOffset,
    serviceUrl,
    // Refused: no token, so nothing (bundle, events, account requests) is sent with one.
    token: typeof values.sensor_token === "string" && !refused ? values.sensor_token : "",
    // The managed policy's enrolment secret (js/credential.js): when set, the token and sensor
    // name are this laptop's own, got by enrolling its key; the secret itself can only enrol.
    enrolmentSecret: typeof values.enrolment_secret === "string" && !refused ? values.enrolment_secret : "",
    refused,
    sensorName: typeof values.sensor_name === "string" && values.sensor_name ? values.sensor_name : "extension",
    privacyLevel: values.privacy_level ?? null,
    source: refused ? `${source}; ${refused}` : source,
  };
}

/** localhost, *.localhost, 127.0.0.0/8 or ::1 (as the URL parser normalises them). */
export function isLoopbackHost(hostname) {
  const host = hostname.replace(/^\[|\]$/g, "").replace(/\.$/, "").toLowerCase();
  if (host === "localhost" || host.endsWith(".localhost") || host === "::1") return true;
  return /^127\.\d{1,3}\.\d{1,3}\.\d{1,3}$/.test(host);
}

/**
 * The one line refusing to send the sensor token over plain http to another machine (anyone on
 * the network could read it, then send events or read the bundle as this sensor), or null:
 * https, loopback, or the school said so explicitly (managed setting `allow_plain_http: true`).
 */
export function plainHttpRefusal(serviceUrl, allowed = false) {
  if (!serviceUrl || allowed) return null;
  let url;
  try {
    url = new URL(serviceUrl);
  } catch {
    return null; // not a URL: the fetch fails and says so
  }
  if (url.protocol !== "http:" || isLoopbackHost(url.hostname)) return null;
  return (
    `service_url ${url.origin} is plain http to another machine, so the sensor token is not sent ` +
    "(anyone on the network could read it): use the service's https:// URL, or set " +
    "allow_plain_http to true in the managed settings to send it anyway"
  );
}

/** The settings in force, read on first use and again after `forget()` (managed storage changed). */
export class Settings {
  /** `credential`: a js/credential.js Credential, used when the policy holds an enrolment secret. */
  constructor(managed, local, clock = Date.now, credential = null) {
    this._read = () => readSettings(managed, local);
    this._clock = clock;
    this._cache = null;
    this._credential = credential;
  }

  async get() {
    if (!this._cache) {
      this._cache = this._read().catch((err) => {
        this._cache = null;
        throw err;
      });
    }
    const config = await this._cache;
    if (!config.enrolmentSecret || !config.serviceUrl || !this._credential) return config;
    // This laptop's own short-lived token (the credential keeps it until it is due for renewal).
    const own = await this._credential.session(config).catch((err) => ({ token: "", sensor: null, waiting: false, error: String(err) }));
    return {
      ...config,
      token: own.token,
      sensorName: own.sensor ?? config.sensorName,
      enrolment: own.waiting ? "waiting for the admin's approval" : own.error ?? "enrolled",
    };
  }

  forget() {
    this._cache = null;
  }

  /** The time now (epoch ms), with the test clock offset when one is set. */
  async now() {
    return this._clock() + (await this.get()).clockOffset;
  }
}
