// generated from policy.ids by scripts/generate_js.py, do not edit
// Every id pattern; names bound to one Python pattern share one RegExp.

export const IDENTIFIER = /^[a-z0-9][a-z0-9_.-]{0,63}$/;
export const PLATFORM_ID = IDENTIFIER;
export const RULE_ID = IDENTIFIER;
export const DEVICE_GROUP_ID = IDENTIFIER;
export const ACCOUNT_ID = IDENTIFIER;
export const REASON_ID = IDENTIFIER;
export const POLICY_VERSION = IDENTIFIER;
export const CLAUSE_ID = /^[0-9]{1,3}(\.[0-9]{1,3}){0,4}$/;
export const SENSOR_NAME = /^[A-Za-z0-9][A-Za-z0-9_-]{0,63}$/;
export const EVENT_ID = /^[0-9a-f]{32}$/;
export const DEVICE_PSEUDONYM = EVENT_ID;
export const UTC_TIME = /^[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z$/;
export const HOSTNAME = /^[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?(\.[a-z0-9]([a-z0-9-]{0,61}[a-z0-9])?)*$/;

export const PATTERNS = Object.freeze({ identifier: IDENTIFIER, clause_id: CLAUSE_ID, sensor_name: SENSOR_NAME, event_id: EVENT_ID, device_pseudonym: EVENT_ID, utc_time: UTC_TIME, hostname: HOSTNAME });
