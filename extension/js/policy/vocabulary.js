// policy/vocabulary.py: the closed vocabularies shared by the core, the events and the bundle
// (the cross-check compares these labels with the Python ones).

export const CATEGORY_LABELS = {
  social_network: "a social network",
  professional_network: "a professional network",
  messaging: "a messaging service",
  video: "a video platform",
  blog: "a blogging platform",
  wiki: "a wiki",
  forum: "a forum",
};
export const ACTION_LABELS = {
  browse: "opening",
  post: "posting, commenting or reacting on",
  message: "sending a message on",
  reference: "writing a recommendation or endorsement on",
  connect: "sending a friend request, follow or invitation on",
  subresource: "content embedded from",
};

// The closed vocabularies themselves (the Literal types of policy/vocabulary.py), in Python's order.
export const CATEGORIES = Object.keys(CATEGORY_LABELS);
export const ACTIONS = Object.keys(ACTION_LABELS);
export const OUTCOMES = ["allow", "log", "warn", "block"];
export const ACCOUNT_KINDS = ["school", "personal", "unknown"];
export const PRIVACY_LEVELS = ["daily", "stable", "none"];
