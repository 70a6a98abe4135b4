// generated from policy.vocabulary by scripts/generate_js.py, do not edit
// The closed vocabularies, in Python's order, and their labels.

export const CATEGORIES = Object.freeze(["social_network", "professional_network", "messaging", "video", "blog", "wiki", "forum"]);
export const ACTIONS = Object.freeze(["browse", "post", "message", "reference", "connect", "subresource", "seen"]);
export const APPROVABLE_ACTIONS = Object.freeze(["browse", "post", "message", "reference", "connect", "subresource"]);
export const OUTCOMES = Object.freeze(["allow", "log", "warn", "block"]);
export const ACCOUNT_KINDS = Object.freeze(["school", "personal", "unknown"]);
export const PRIVACY_LEVELS = Object.freeze(["daily", "stable", "none"]);
export const CATEGORY_LABELS = Object.freeze({
  "social_network": "a social network",
  "professional_network": "a professional network",
  "messaging": "a messaging service",
  "video": "a video platform",
  "blog": "a blogging platform",
  "wiki": "a wiki",
  "forum": "a forum"
});
export const ACTION_LABELS = Object.freeze({
  "browse": "opening",
  "post": "posting, commenting or reacting on",
  "message": "sending a message on",
  "reference": "writing a recommendation or endorsement on",
  "connect": "sending a friend request, follow or invitation on",
  "subresource": "content embedded from",
  "seen": "a connection (not decrypted) to"
});
