// generated from policy.respond by scripts/generate_js.py, do not edit
// The Response's timings, in seconds, the same for both sensors.

export const TICKET_SECONDS = 1800;
export const HELD_NOTICE_SECONDS = 300;
