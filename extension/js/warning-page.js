// The warning page: the same content as the proxy's (proxy_addon/templates/warning.html), filled
// from the service worker's answer for this page's ticket. Text only (textContent), no HTML.
// Shown only as a tab's own page: in a frame it shows nothing and asks the worker nothing.

import { sendMessage } from "./ext.js";

const $ = (id) => document.getElementById(id);
const target = location.hash.slice(1); // the page that was asked for (never leaves the device)
const framed = window.top !== window;
let ticket = null;

/** `target` if it is a web address (never a javascript: or extension URL), else null. */
function webTarget() {
  try {
    const url = new URL(target);
    return url.protocol === "https:" || url.protocol === "http:" ? url.href : null;
  } catch {
    return null;
  }
}

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function leave() {
  if (history.length > 1) history.back();
  else location.replace("about:blank");
}

async function show() {
  if (framed) {
    $("heading").textContent = "This page can only be shown on its own";
    return;
  }
  const state = await sendMessage({ what: "warning", url: target });
  if (state && state.proceed && webTarget()) {
    location.replace(webTarget());
    return;
  }
  $("school").textContent = (state && state.school) ?? "";
  if (!state || !state.ticket) {
    $("heading").textContent = "This warning has expired";
    const again = el("p", "Open the page you wanted to see again; the warning will show again.");
    if (webTarget()) {
      again.textContent = "";
      again.append(el("a", "Open the page you wanted to see again", { href: webTarget() }), "; the warning will show again.");
    }
    $("heading").after(again);
    return;
  }
  ticket = state.ticket;
  const name = state.platform_name;
  const heading = state.heading ?? (state.blocked ? `${name} is not available here` : `Before you continue to ${name}`);
  document.title = `${heading} - ${state.school}`;
  document.body.className = state.blocked ? "block" : "warn";
  $("heading").textContent = heading;
  if (state.held) {
    // A held act (a form it posted, or a link that is an act): what to do now first, then why
    // (as the proxy's page has it).
    $("reason").textContent = state.next_step;
    $("next-step").textContent = state.reason;
    $("next-step").hidden = false;
  } else {
    $("reason").textContent = state.reason;
  }
  state.clauses.forEach((clause, i) => {
    const section = el("section", null, { "aria-labelledby": `clause-${i + 1}` });
    section.append(el("h3", `Clause ${clause.id}${clause.heading ? `: ${clause.heading}` : ""}`, { id: `clause-${i + 1}` }));
    // A clause that only may apply is led by its condition ("If this person is a pupil, ...").
    if (clause.lead) section.append(el("p", clause.lead, { class: "may-apply" }));
    const quote = el("blockquote");
    for (const para of (clause.text ?? "").split("\n\n")) quote.append(el("p", para));
    if (clause.continuation) quote.append(el("p", clause.continuation));
    section.append(quote);
    $("clauses").append(section);
  });
  $("go-back").className = state.allow_continue ? "secondary" : "primary";
  if (state.allow_continue) {
    $("why-now").textContent = `Why do you need ${name} now?`;
    // No reason is chosen for them (a preselected one would bias what is recorded): the
    // browser asks for a choice before Continue, as on the proxy's page.
    state.reasons.forEach((r) => {
      const label = el("label");
      const input = el("input", null, { type: "radio", name: "reason", value: r.id, required: "" });
      label.append(input, ` ${r.label}`);
      $("reasons").append(label);
    });
    $("allowance-note").textContent = state.held
      ? `Only the reason you choose is recorded, never anything you type. Each ${state.act} you send on ${name} from this device then goes through for ${state.allowance_minutes} minutes: send it again. Anything else you send is warned on its own.`
      : `Only the reason you choose is recorded, never anything you type. ${name} will then open on this device for ${state.allowance_minutes} minutes.`;
    $("continue-form").hidden = false;
  }
  if (state.tell_reasons.length) {
    // Reasons that leave it unsent and open Tell the Headteacher (8.1, 8.4; 11.3.6 for a post).
    $("tell-instead-note").textContent =
      `Choosing one of these leaves your ${state.act ?? "request"} unsent and opens the form to tell the Headteacher, with ${name} chosen.`;
    for (const r of state.tell_reasons) {
      const button = el("button", r.label, { type: "button", class: "secondary", "data-reason": r.id });
      button.addEventListener("click", () => answer(r.id));
      $("tell-reasons").append(button);
    }
    $("tell-instead").hidden = false;
  }
  $("register").hidden = !state.account_seen;
  if (state.tell) {
    $("tell-headteacher").href = `tell.html?platform=${encodeURIComponent(state.platform ?? "")}`;
    $("tell").hidden = false; // only where a service can receive it
  }
  $("recorded").textContent =
    `An anonymised event: the time (to the nearest ${state.granularity} minutes), the platform, what kind of action it was, the clause, and what you chose. ${state.not_recorded}`;
  if (state.clauses_url) {
    $("clause-map").href = state.clauses_url;
    $("clause-map-line").hidden = false;
  }
  $("content").hidden = false;
}

if (!framed) $("go-back").addEventListener("click", async () => {
  await sendMessage({ what: "back", ticket }).catch(() => {});
  leave();
});

/** Continue with `reason`, or (a reason that tells the Headteacher instead) go to the Tell form. */
async function answer(reason) {
  if (framed) return;
  const answered = await sendMessage({ what: "continue", ticket, reason });
  if (answered && answered.tell) {
    location.replace(answered.tell); // nothing was sent: the Tell the Headteacher form
  } else if (answered && answered.url && webTarget()) {
    location.replace(answered.url);
  } else {
    $("error").textContent = (answered && answered.error) || "Continue is not available.";
    $("error").hidden = false;
  }
}

$("continue-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  await answer(new FormData(event.target).get("reason"));
});

$("register-link").addEventListener("click", (event) => {
  event.preventDefault();
  $("register-form").hidden = false;
  $("label").focus();
});

$("register-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (framed) return;
  const answer = await sendMessage({ what: "register", ticket, label: $("label").value });
  $("register-heading").textContent = answer.heading;
  $("register-message").textContent = answer.message;
  $("register-result").hidden = false;
  if (answer.sent) $("register-form").hidden = true;
});

show().catch((err) => {
  $("heading").textContent = "The warning could not be shown";
  $("heading").after(el("p", String(err)));
});
