// generated from policy.warning by scripts/generate_js.py, do not edit
// The warning's outcomes, acts, act nouns and what staff see.

export const WARNING_OUTCOMES = Object.freeze(["warn", "block"]);
export const ACTS = Object.freeze(["post", "message", "reference", "connect"]);
export const ACT_NOUNS = Object.freeze({
  "post": "post or comment",
  "message": "message",
  "reference": "recommendation or endorsement",
  "connect": "friend request or invitation"
});
export const SEEN = Object.freeze(["nothing", "warning_page", "blocked_page", "next_page_warning", "next_page_blocked", "refused"]);
