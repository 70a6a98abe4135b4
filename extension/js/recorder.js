// Records anonymised events in the outbox and ships the outbox to the service soon after.
// One event at a time: the install id and the day's salt are made once, not raced.

import { eventFromDecision } from "./policy/event.js";
import { installId, devicePseudonym, forgetOldSalt, newEventId, privacyLevel } from "./sensor-event.js";
import { shipPending } from "./outbox.js";

const SHIP_DELAY_MS = 1000;

export class Recorder {
  /** `outbox`: an Outbox; `local`: chrome.storage.local-like; `settings`, `policies`, `fetch` given. */
  constructor({ outbox, local, settings, policies, fetch, clock = Date.now }) {
    this._outbox = outbox;
    this._local = local;
    this._settings = settings;
    this._policies = policies;
    this._fetch = fetch;
    this._clock = clock;
    this._recording = Promise.resolve();
    this._shipTimer = null;
  }

  /** Keep an event for `decision` at `at` (epoch ms); ship soon. `held`: the act was held. */
  record(decision, at, response = "none", reasonCategory = null, { held = false } = {}) {
    this._recording = this._recording
      .catch(() => {})
      .then(() => this._recordNow(decision, at, response, reasonCategory, held));
    return this._recording;
  }

  async _recordNow(decision, at, response, reasonCategory, held) {
    const [config, { policy, bundle }, deviceId] = await Promise.all([
      this._settings.get(),
      this._policies.current(),
      installId(this._local),
    ]);
    const level = privacyLevel(bundle, config.privacyLevel);
    const day = policy.workingTime.local(at).date;
    const device = await devicePseudonym({ storage: this._local, level, deviceId, day });
    const event = eventFromDecision(decision, {
      eventId: newEventId(),
      at,
      sensor: config.sensorName,
      device,
      policyVersion: policy.policyVersion,
      granularityMinutes: Number(policy.settings.event_time_granularity_minutes),
      response,
      reasonCategory,
      held,
    });
    await this._outbox.add(event);
    this._soon();
  }

  _soon() {
    if (this._shipTimer !== null) return;
    this._shipTimer = setTimeout(() => {
      this._shipTimer = null;
      this.ship().catch(() => {});
    }, SHIP_DELAY_MS);
  }

  /** Destroy the salt of a day that is over (the worker's minute alarm calls `ship`). */
  async forgetOldSalt() {
    const [config, { policy }] = await Promise.all([this._settings.get(), this._policies.current()]);
    const today = policy.workingTime.local(this._clock() + config.clockOffset).date;
    this._recording = this._recording.catch(() => {}).then(() => forgetOldSalt(this._local, today));
    return this._recording;
  }

  /** Send what waits in the outbox (with backoff after failures: outbox.js); first destroy a
   * past day's salt. */
  async ship() {
    await this.forgetOldSalt().catch(() => {});
    const config = await this._settings.get();
    return shipPending(this._outbox, this._local, {
      serviceUrl: config.serviceUrl,
      token: config.token,
      fetch: this._fetch,
      now: () => this._clock() + config.clockOffset,
    });
  }
}
