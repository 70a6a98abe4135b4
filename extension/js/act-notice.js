// The notice of a held act, put in the page by the worker (chrome.scripting, top frame only) when
// an act rule held a post, a message, a friend request or a reference the page's script sent:
// the warning page's wording and choices (js/policy/warning.js), in the page, at once.
//
// A content script: it runs in its own world, so the page's scripts can't reach its functions or
// the ticket, and it acts only on the member of staff's own input (isTrusted events): a page can
// neither press Continue nor choose the reason. Text only (textContent), no HTML from anywhere.
// The notice lives in a shadow root so the page's styles don't change it.
(() => {
  const api = globalThis.chrome ?? globalThis.browser;
  const HOST_ID = "clausewarden-held-act";

  const CSS = `
    :host { all: initial; }
    .notice { position: fixed; z-index: 2147483647; top: 1rem; right: 1rem; box-sizing: border-box;
      width: min(34rem, calc(100vw - 2rem)); max-height: calc(100vh - 2rem); overflow: auto;
      background: #ffffff; color: #1a1a1a; border: 3px solid #1d4080; border-radius: 6px;
      padding: 1rem 1.25rem; font: 16px/1.5 system-ui, -apple-system, "Segoe UI", Arial, sans-serif;
      box-shadow: 0 4px 24px rgba(0, 0, 0, 0.35); text-align: left; }
    .notice.block { border-color: #a4161a; }
    h1 { font-size: 1.25rem; margin: 0 0 0.5rem; line-height: 1.3; }
    h2 { font-size: 1.05rem; margin: 1rem 0 0.25rem; }
    h3 { font-size: 1rem; margin: 0.75rem 0 0.25rem; }
    p { margin: 0.25rem 0; }
    blockquote { margin: 0.25rem 0 0.5rem; padding-left: 0.75rem; border-left: 4px solid #1d4080; }
    .school, .small { font-size: 0.9rem; color: #333333; }
    fieldset { border: 1px solid #666666; border-radius: 4px; margin: 0.5rem 0; padding: 0.5rem 0.75rem; }
    legend { font-weight: 600; padding: 0 0.25rem; }
    label { display: block; padding: 0.2rem 0; cursor: pointer; }
    input[type=radio] { width: 1.1rem; height: 1.1rem; vertical-align: -0.15rem; margin-right: 0.4rem; }
    .actions { display: flex; flex-wrap: wrap; gap: 0.5rem; margin: 0.75rem 0 0.25rem; }
    button { font: inherit; min-height: 2.75rem; padding: 0.4rem 1rem; border-radius: 4px; cursor: pointer;
      border: 2px solid #1d4080; }
    button.primary { background: #1d4080; color: #ffffff; }
    button.secondary { background: #ffffff; color: #1d4080; }
    button:focus-visible, input:focus-visible, h1:focus-visible { outline: 3px solid #ffbf47; outline-offset: 2px; }
    .error { color: #a4161a; font-weight: 600; }
  `;

  function el(tag, text, attrs = {}) {
    const node = document.createElement(tag);
    if (text !== undefined && text !== null) node.textContent = text;
    for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, v);
    return node;
  }

  const ask = (message) => api.runtime.sendMessage(message);

  function remove() {
    document.getElementById(HOST_ID)?.remove();
  }

  async function show() {
    const state = await ask({ what: "held" });
    if (!state || !state.ticket) return;
    // The same act held again while its notice is still up (a page's script retrying): keep that
    // notice, and whatever the member of staff has chosen in it (its ticket still answers). A
    // different act gets its own notice. Kept in this script's own world, out of the page's reach.
    const shown = globalThis.__clausewardenNotice;
    if (shown && shown.host.isConnected && shown.heading === state.heading) return;
    remove();
    const { ticket } = state;
    const host = el("div", null, { id: HOST_ID });
    globalThis.__clausewardenNotice = { host, heading: state.heading };
    const root = host.attachShadow({ mode: "open" });
    root.append(el("style", CSS));
    const box = el("section", null, {
      class: `notice ${state.blocked ? "block" : "warn"}`,
      role: "alertdialog",
      "aria-labelledby": "cw-heading",
      "aria-describedby": "cw-next-step",
    });
    box.append(el("p", state.school, { class: "school" }));
    const heading = el("h1", state.heading, { id: "cw-heading", tabindex: "-1" });
    box.append(heading);
    // What to do now first, then why (as the warning page has it for a held act).
    box.append(el("p", state.next_step, { id: "cw-next-step", class: "why" }));
    box.append(el("p", state.reason, { id: "cw-reason" }));
    box.append(el("h2", "What the school's Social Media Policy says"));
    state.clauses.forEach((clause, i) => {
      const section = el("section", null, { "aria-labelledby": `cw-clause-${i + 1}` });
      section.append(el("h3", `Clause ${clause.id}${clause.heading ? `: ${clause.heading}` : ""}`, { id: `cw-clause-${i + 1}` }));
      // A clause that only may apply is led by its condition ("If this person is a pupil, ...").
      if (clause.lead) section.append(el("p", clause.lead, { class: "may-apply" }));
      const quote = el("blockquote");
      for (const para of (clause.text ?? "").split("\n\n")) quote.append(el("p", para));
      if (clause.continuation) quote.append(el("p", clause.continuation));
      section.append(quote);
      box.append(section);
    });
    const error = el("p", null, { class: "error", role: "alert", hidden: "" });
    const back = el("button", "Go back", { type: "button", class: state.allow_continue ? "secondary" : "primary", id: "cw-go-back" });
    const actions = el("div", null, { class: "actions" });
    actions.append(back);
    box.append(actions);
    back.addEventListener("click", async (event) => {
      if (!event.isTrusted) return;
      await ask({ what: "held-back", ticket }).catch(() => {});
      remove();
    });
    if (state.allow_continue) {
      const name = state.platform_name;
      box.append(el("h2", "Is this school business?"));
      const fieldset = el("fieldset");
      fieldset.append(el("legend", `Why do you need ${name} now?`));
      // No reason is chosen for them (a preselected one would bias what is recorded): Continue
      // asks for a choice first, as the warning page and the proxy's page do.
      let reason = null;
      state.reasons.forEach((r) => {
        const label = el("label");
        const input = el("input", null, { type: "radio", name: "cw-reason", value: r.id, required: "" });
        // Only the member of staff's own choice counts (a page's script can't fire a trusted change).
        input.addEventListener("change", (event) => {
          if (event.isTrusted && input.checked) reason = r.id;
        });
        label.append(input, ` ${r.label}`);
        fieldset.append(label);
      });
      box.append(fieldset);
      box.append(
        el(
          "p",
          `Only the reason you choose is recorded, never anything you type. Each ${state.act} you send on ${name} from this device then goes through for ${state.allowance_minutes} minutes: send it again. Anything else you send is warned on its own.`,
          { class: "small" },
        ),
      );
      box.append(error);
      const go = el("button", "This is school business — continue", { type: "button", class: "primary", id: "cw-continue" });
      const more = el("div", null, { class: "actions" });
      more.append(go);
      box.append(more);
      go.addEventListener("click", async (event) => {
        if (!event.isTrusted) return;
        if (reason === null) {
          error.textContent = "Choose one of the reasons above first.";
          error.hidden = false;
          fieldset.querySelector("input")?.focus();
          return;
        }
        const answer = await ask({ what: "held-continue", ticket, reason }).catch((err) => ({ error: String(err) }));
        if (answer && answer.continued) {
          globalThis.__clausewardenNotice = null; // answered: the next hold gets its own notice
          box.replaceChildren(
            el("p", state.school, { class: "school" }),
            el("h1", `${name} is open for ${answer.minutes} minutes`, { id: "cw-heading", tabindex: "-1" }),
            el("p", "Send it again: it will go through now."),
          );
          const close = el("button", "Close", { type: "button", class: "primary", id: "cw-close" });
          close.addEventListener("click", (e) => e.isTrusted && remove());
          const row = el("div", null, { class: "actions" });
          row.append(close);
          box.append(row);
          root.getElementById("cw-heading").focus();
        } else {
          error.textContent = (answer && answer.error) || "Continue is not available.";
          error.hidden = false;
        }
      });
    }
    if (state.tell_reasons.length) {
      // Reasons that leave the act unsent and open Tell the Headteacher (8.1, 8.4; 11.3.6 on a
      // post): never a way to send it.
      box.append(el("h2", "Tell the Headteacher instead of sending it"));
      box.append(
        el(
          "p",
          `Choosing one of these leaves your ${state.act} unsent and opens the form to tell the Headteacher in a new tab, with ${state.platform_name} chosen.`,
        ),
      );
      const row = el("div", null, { class: "actions" });
      const told = el("p", null, { class: "error", role: "alert", hidden: "" });
      for (const r of state.tell_reasons) {
        const button = el("button", r.label, { type: "button", class: "secondary", "data-reason": r.id });
        button.addEventListener("click", async (event) => {
          if (!event.isTrusted) return;
          const answer = await ask({ what: "held-continue", ticket, reason: r.id }).catch((err) => ({ error: String(err) }));
          if (answer && answer.told) {
            globalThis.__clausewardenNotice = null; // answered: the next hold gets its own notice
          box.replaceChildren(
              el("p", state.school, { class: "school" }),
              el("h1", `Your ${state.act} was not sent`, { id: "cw-heading", tabindex: "-1" }),
              el("p", "The form to tell the Headteacher is open in a new tab, with the platform chosen.", { id: "cw-told" }),
            );
            const close = el("button", "Close", { type: "button", class: "primary", id: "cw-close" });
            close.addEventListener("click", (e) => e.isTrusted && remove());
            const closeRow = el("div", null, { class: "actions" });
            closeRow.append(close);
            box.append(closeRow);
            root.getElementById("cw-heading").focus();
          } else {
            told.textContent = (answer && answer.error) || "This is not available.";
            told.hidden = false;
          }
        });
        row.append(button);
      }
      box.append(told, row);
    }
    if (state.tell) {
      box.append(el("h2", "Telling the Headteacher"));
      const p = el("p", "Has a pupil or a parent contacted you on social media, or have you seen something the Headteacher should know (clauses 8.1, 8.4)? ");
      const tell = el("button", "Tell the Headteacher", { type: "button", class: "secondary", id: "cw-tell" });
      tell.addEventListener("click", (event) => {
        if (event.isTrusted) ask({ what: "open-tell", platform: state.platform }).catch(() => {});
      });
      p.append(tell, " (opens in a new tab, so that this notice can still be answered): the one form where you give your name, by your choice, and it goes to the Headteacher alone.");
      box.append(p);
    }
    box.append(el("h2", "What is recorded"));
    box.append(
      el(
        "p",
        `An anonymised event: the time (to the nearest ${state.granularity} minutes), the platform, what kind of action it was, the clause, and what you chose. ${state.not_recorded}`,
        { id: "cw-recorded" },
      ),
    );
    root.append(box);
    (document.body ?? document.documentElement).append(host);
    heading.focus();
  }

  show().catch(() => {});
})();
