// The options page: the extension's state for the IT admin or a curious member of staff. It shows
// state only; settings come from the school (managed storage) and nothing here switches it off.

import { sendMessage } from "./ext.js";

const when = (iso) => (iso ? new Date(iso).toLocaleString() : "never");

async function show() {
  const s = await sendMessage({ what: "state" });
  document.getElementById("school").textContent = s.school;
  const rows = [
    ["Extension version", s.extension_version],
    ["Policy", `${s.policy_version} (bundle ${s.bundle_version}, ${s.bundle_source})`],
    ["Settings", s.settings_source],
    ["Service", s.service ?? "none"],
    ["Sensor name", s.sensor],
    // With an enrolment secret the sensor name is this laptop's own credential: the identifier
    // the headteacher names to ask this laptop alone about a device.
    ...(s.enrolment ? [["This laptop's credential", s.enrolment]] : []),
    ["Privacy level", s.privacy_level],
    ["Last bundle sync", `${when(s.sync && s.sync.last_success)}${s.sync && s.sync.last_error ? ` (last error: ${s.sync.last_error})` : ""}`],
    ["Last events sent", `${when(s.ship && s.ship.last_success)}${s.ship && s.ship.last_error ? ` (last error: ${s.ship.last_error})` : ""}`],
    ["Events waiting", String(s.outbox.outbox_pending)],
    ["Events dropped (outbox full or refused)", String(s.outbox.outbox_dropped)],
    ["Oldest waiting", s.outbox.oldest_pending ?? "none"],
  ];
  const dl = document.getElementById("state");
  dl.replaceChildren();
  for (const [k, v] of rows) {
    const dt = document.createElement("dt");
    dt.textContent = k;
    const dd = document.createElement("dd");
    dd.textContent = v;
    dd.dataset.field = k;
    dl.append(dt, dd);
  }
}

show().catch((err) => {
  document.getElementById("state").textContent = String(err);
});
