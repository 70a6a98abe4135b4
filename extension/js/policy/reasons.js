// policy/reasons.py: which reasons the warning offers for each kind of request, and what choosing
// one does (continue, or tell the Headteacher instead). Pure. The checks of a school's settings
// against the clauses stay in Python, where the configuration is read.

/** The kind a page view's reasons are given for (every request that is not an act). */
export const PAGE_VIEW = "browse";

/** What a reason that names no kind is offered for (a bundle from before reasons named them). */
export const DEFAULT_ACTS = Object.freeze({ [PAGE_VIEW]: "continue" });

/** The kind of request reasons are given for: the act itself, or a page view. */
export function kindOf(action, acts) {
  return acts.includes(action) ? action : PAGE_VIEW;
}

/** The reasons offered for `kind` that `route` (continue or tell), in the settings' order. */
export function reasonsFor(reasons, kind, route) {
  const out = [];
  for (const reason of reasons) {
    if ((reason.acts ?? DEFAULT_ACTS)[kind] !== route) continue;
    const chosen = { id: String(reason.id), label: String(reason.label) };
    if (route === "tell") chosen.tell = String(reason.tell);
    out.push(chosen);
  }
  return out;
}
