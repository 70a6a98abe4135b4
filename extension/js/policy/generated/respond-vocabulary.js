// generated from policy.respond by scripts/generate_js.py, do not edit
// The Response's value lists (its Literal types), in Python's order.

export const FATES = Object.freeze(["forward", "hold", "refuse", "decline_prefetch"]);
export const PAGES = Object.freeze(["warning", "block", "held_notice", "none"]);
export const NOTICES = Object.freeze(["now", "next_page", "never", "none"]);
export const RETURN_TO = Object.freeze(["request", "referrer"]);
export const OWN_SITE = Object.freeze(["same-origin", "same-site", "none"]);
