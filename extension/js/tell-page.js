// tell.html: the Tell form of the extension (js/tell.js relays it): the Headteacher, or the line
// manager or senior team the school names, with who receives what. Text only
// (textContent), no HTML from anywhere. What is typed stays in the form until the worker says the
// service has it; nothing is stored in the browser.

import { sendMessage } from "./ext.js";

const $ = (id) => document.getElementById(id);
const query = new URLSearchParams(location.search);
const asked = query.get("platform") ?? "";
// What it is about, chosen already when a reason on a held act's warning led here (8.1, 8.4,
// 11.3.6): they can still change it.
const askedKind = query.get("kind") ?? "";

function el(tag, text, attrs = {}) {
  const node = document.createElement(tag);
  if (text !== undefined && text !== null) node.textContent = text;
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
  return node;
}

function problem(heading, lines = []) {
  const box = $("problem");
  box.replaceChildren(el("h2", heading));
  if (lines.length) {
    const list = el("ul");
    for (const [field, message] of lines) {
      const item = el("li");
      item.append(el("a", message, { href: `#${field}` }));
      list.append(item);
    }
    box.append(list);
  }
  box.hidden = false;
  box.focus();
}

async function show() {
  if (window.top !== window) {
    $("form-part").hidden = true;
    $("heading").textContent = "This page can only be shown on its own";
    return;
  }
  const form = await sendMessage({ what: "tell-form" });
  $("school").textContent = form.school ?? "";
  document.title = `Tell the Headteacher - ${form.school}`;
  const single = form.recipients.length === 1;
  if (!single) {
    $("heading").textContent = "Tell the Headteacher or another member of staff";
    $("contact-label").textContent = "How they can reach you";
    $("send").textContent = "Send to the person chosen";
    $("recipients").hidden = false;
    $("only-headteacher").hidden = true;
  }
  for (const r of form.recipients) {
    const row = el("tr");
    row.append(el("th", r.label, { scope: "row" }));
    const cell = el("td");
    const list = el("ul");
    for (const kind of r.receives) list.append(el("li", form.kinds[kind] ?? kind));
    cell.append(list);
    row.append(cell);
    $("who-receives").append(row);
    if (!single) {
      const choice = el("label");
      choice.append(el("input", null, { type: "radio", name: "to", id: `to-${r.id}`, value: r.id, required: "" }), ` ${r.label}`);
      $("recipients").append(choice);
    }
  }
  Object.entries(form.kinds).forEach(([id, label]) => {
    const row = el("label");
    const input = el("input", null, { type: "radio", name: "kind", id: `kind-${id}`, value: id, required: "" });
    if (id === askedKind) input.checked = true;
    row.append(input, ` ${label}`);
    $("kinds").append(row);
  });
  for (const [id, name] of form.platforms) {
    const option = el("option", name, { value: id });
    if (id === asked) option.selected = true;
    $("platform").append(option);
  }
  $("platform").append(el("option", "Another platform", { value: form.other }));
  if (!form.connected) {
    $("not-connected").hidden = false;
    $("send").disabled = true;
  }
}

$("tell-form").addEventListener("submit", async (event) => {
  event.preventDefault();
  if (window.top !== window) return;
  const data = new FormData(event.target);
  const answer = await sendMessage({
    what: "tell",
    kind: data.get("kind") ?? "",
    to: data.get("to") ?? "",
    platform: data.get("platform") || null,
    what_happened: data.get("what_happened") ?? "",
    name: data.get("name") ?? "",
    contact: data.get("contact") ?? "",
  });
  if (answer && answer.reference) {
    $("form-part").hidden = true;
    $("problem").hidden = true;
    const to = answer.to || "the Headteacher";
    $("heading").textContent = `Sent to ${to}`;
    document.title = `Sent to ${to} - ${$("school").textContent}`;
    const status = $("sent-status");
    status.textContent = `Thank you. ${to.slice(0, 1).toUpperCase()}${to.slice(1)} has your report. Your reference is `;
    status.append(el("strong", answer.reference, { class: "reference", id: "reference" }), ": note it down if you want to talk about this report later.");
    $("sent").hidden = false;
    event.target.reset();
    return;
  }
  if (answer && answer.problems) {
    const lines = Object.entries(answer.problems).map(([field, message]) => [field === "kind" ? "kind-contact" : field === "to" ? "to-headteacher" : field, message]);
    problem("Nothing was sent yet: please check", lines);
    return;
  }
  problem((answer && answer.error) || "Nothing was sent. Please tell the Headteacher in person or by email.");
});

show().catch((err) => problem(`The form could not be shown: ${err.message ?? err}`));
