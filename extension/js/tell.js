// Telling the Headteacher (clauses 8.1, 8.4, 10.2, 11.3.7), or the line manager or the senior team
// (5.3, 12.3), from the extension: the worker's side of tell.html. The member of staff writes what
// happened, on which platform, their own name and how to reach them, and chooses who receives it
// among the bundle's report_recipients; the worker relays it at once to the service's
// POST /api/v1/staff-reports with the sensor token, as the proxy's form does, and keeps nothing of
// it. It never joins the events.
//
// KINDS, TEXT_LIMITS and the Headteacher's defaults are policy/staff_report.py's
// (tests/extension/test_extension_acts.py holds them equal).

export const KINDS = {
  contact: "A pupil or a parent/carer contacted me on social media (clause 8.1)",
  safeguarding: "Something on social media may be a safeguarding concern (clause 8.4)",
  press: "I was asked for comments about the school for publication (clause 10.2)",
  reputation: "Content that disparages or reflects poorly on the school (clause 11.3.7)",
  misuse: "Misuse of social media (clause 5.3)",
  question: "A question about what this policy says or how it applies (clause 5.3)",
  comment: "A comment on this policy or a way to improve it (clause 12.3)",
  other: "Something else",
};
export const HEADTEACHER = "headteacher";

/** Who the form offers: the bundle's report_recipients (a bundle from before them: the Headteacher alone). */
export function recipientsOf(bundle) {
  const listed = bundle.report_recipients;
  if (Array.isArray(listed) && listed.length) return listed;
  return [{ id: HEADTEACHER, role: HEADTEACHER, label: "the Headteacher", receives: Object.keys(KINDS) }];
}
export const TEXT_LIMITS = { what_happened: 4000, name: 200, contact: 200 };
export const OTHER_PLATFORM = "other";

/**
 * The form's address in the extension (tell.html), with the platform (a catalogue id) and what
 * the report is about (one of KINDS) chosen where given and known: the warning's "Tell the
 * Headteacher", and a reason that tells the Headteacher instead of sending a held act.
 */
export function tellPath(platformIds, platform = null, kind = null) {
  const query = new URLSearchParams();
  if (typeof platform === "string" && platformIds.includes(platform)) query.set("platform", platform);
  if (typeof kind === "string" && Object.hasOwn(KINDS, kind)) query.set("kind", kind);
  const asked = query.toString();
  return asked ? `tell.html?${asked}` : "tell.html";
}

/** Whether the browser can send a report (a service and a sensor token are configured). */
export const connected = (config) => Boolean(config.serviceUrl && config.token);

/** What the form offers: the kinds, the platforms of the bundle, the limits, whether it can send. */
export async function tellForm({ settings, policies }) {
  const { policy, bundle } = await policies.current();
  return {
    school: policy.schoolName,
    kinds: KINDS,
    recipients: recipientsOf(bundle),
    platforms: bundle.platforms.map((p) => [p.id, p.name]).sort((a, b) => String(a[1]).localeCompare(String(b[1]))),
    other: OTHER_PLATFORM,
    limits: TEXT_LIMITS,
    connected: connected(await settings.get()),
  };
}

/** The problems of a report as the form has it ({field: message}), before anything is sent. */
export function reportProblems(report, platformIds, recipients) {
  const problems = {};
  if (!Object.hasOwn(KINDS, report.kind)) problems.kind = "Choose what it is about.";
  const chosen = recipients.find((r) => r.id === report.to);
  if (!chosen) problems.to = "Choose who receives it.";
  else if (!problems.kind && !chosen.receives.includes(report.kind)) {
    const takers = recipients.filter((r) => r.receives.includes(report.kind)).map((r) => r.label);
    problems.to = `${chosen.label} does not receive this kind of report: choose ${takers.join(" or ")}.`;
  }
  if (report.platform !== null && report.platform !== OTHER_PLATFORM && !platformIds.includes(report.platform)) {
    problems.platform = "Choose a platform from the list.";
  }
  const words = { what_happened: "what happened", name: "your name", contact: "how they can reach you" };
  for (const [field, most] of Object.entries(TEXT_LIMITS)) {
    const value = typeof report[field] === "string" ? report[field].trim() : "";
    if (!value) problems[field] = `Write ${words[field]}.`;
    else if (value.length > most) problems[field] = `Shorten ${words[field]} to ${most} characters at most.`;
  }
  return problems;
}

/** Relay the report to the service; {reference} or {error} (one line, what to do). */
export async function sendReport({ settings, policies, fetch }, request) {
  const config = await settings.get();
  if (!connected(config)) {
    return { error: "This browser is not connected to a ClauseWarden service, so nothing was sent. Please tell the Headteacher in person or by email." };
  }
  const { bundle } = await policies.current();
  const recipients = recipientsOf(bundle);
  const report = {
    kind: String(request.kind ?? ""),
    to: recipients.length === 1 ? recipients[0].id : String(request.to ?? ""),
    platform: request.platform ? String(request.platform) : null,
    what_happened: String(request.what_happened ?? ""),
    name: String(request.name ?? ""),
    contact: String(request.contact ?? ""),
  };
  const problems = reportProblems(report, bundle.platforms.map((p) => p.id), recipients);
  if (Object.keys(problems).length) return { problems };
  let response;
  try {
    response = await fetch(`${config.serviceUrl.replace(/\/+$/, "")}/api/v1/staff-reports`, {
      method: "POST",
      headers: { Authorization: `Bearer ${config.token}`, "Content-Type": "application/json" },
      body: JSON.stringify(report),
    });
  } catch {
    return { error: "The ClauseWarden service could not be reached, so nothing was sent. Try again later, or tell the Headteacher in person." };
  }
  if (response.status === 201) {
    const answer = await response.json();
    const to = recipients.find((r) => r.id === report.to);
    return { reference: String(answer.reference), to: to.label };
  }
  if (response.status === 429) return { error: "Too many reports were sent from this browser just now. Try again in a few minutes." };
  return { error: `The service refused the report (${response.status}), so nothing was sent. Tell the Headteacher in person or by email.` };
}
