// The school's settings (service URL, sensor token and name, privacy level) from managed storage,
// read once and kept until managed storage changes; and the worker's clock.

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
  return {
    clockOffset,
    serviceUrl: typeof values.service_url === "string" ? values.service_url : "",
    token: typeof values.sensor_token === "string" ? values.sensor_token : "",
    sensorName: typeof values.sensor_name === "string" && values.sensor_name ? values.sensor_name : "extension",
    privacyLevel: values.privacy_level ?? null,
    source,
  };
}

/** The settings in force, read on first use and again after `forget()` (managed storage changed). */
export class Settings {
  constructor(managed, local, clock = Date.now) {
    this._read = () => readSettings(managed, local);
    this._clock = clock;
    this._cache = null;
  }

  get() {
    if (!this._cache) {
      this._cache = this._read().catch((err) => {
        this._cache = null;
        throw err;
      });
    }
    return this._cache;
  }

  forget() {
    this._cache = null;
  }

  /** The time now (epoch ms), with the test clock offset when one is set. */
  async now() {
    return this._clock() + (await this.get()).clockOffset;
  }
}
