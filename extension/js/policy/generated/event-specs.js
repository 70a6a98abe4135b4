// generated from policy.event by scripts/generate_js.py, do not edit
// The event's field specs (FieldSpec less its documentation), in order.

import * as ids from "./ids.js";

export const RESPONSES = Object.freeze(["none", "continued", "went_back"]);
export const MAX_CLAUSES = 20;
export const ADDED_FIELDS = Object.freeze({
  "held": false,
  "may_apply": []
});
export const BOTH_APPLY_AND_MAY = "a clause either applies or may apply, not both";
export const EVENT_FIELD_SPECS = Object.freeze([
  { name: "id", jsonType: "string", nullable: false, enumValues: [], pattern: ids.EVENT_ID, maxLength: 32, maxItems: null, problem: "expected 32 lowercase hex digits" },
  { name: "time", jsonType: "string", nullable: false, enumValues: [], pattern: ids.UTC_TIME, maxLength: 20, maxItems: null, problem: "expected YYYY-MM-DDTHH:MM:SSZ" },
  { name: "sensor", jsonType: "string", nullable: false, enumValues: [], pattern: ids.SENSOR_NAME, maxLength: 64, maxItems: null, problem: "expected a sensor name" },
  { name: "device", jsonType: "string", nullable: true, enumValues: [], pattern: ids.EVENT_ID, maxLength: 32, maxItems: null, problem: "expected 32 lowercase hex digits or null" },
  { name: "platform", jsonType: "string", nullable: false, enumValues: [], pattern: ids.IDENTIFIER, maxLength: 64, maxItems: null, problem: "expected an id like 'facebook' (a-z, 0-9, '_', '.', '-')" },
  { name: "category", jsonType: "string", nullable: false, enumValues: ["social_network", "professional_network", "messaging", "video", "blog", "wiki", "forum"], pattern: null, maxLength: 32, maxItems: null, problem: "expected one of blog, forum, messaging, professional_network, social_network, video, wiki" },
  { name: "action", jsonType: "string", nullable: false, enumValues: ["browse", "post", "message", "reference", "connect", "subresource", "seen"], pattern: null, maxLength: 16, maxItems: null, problem: "expected one of browse, connect, message, post, reference, seen, subresource" },
  { name: "outcome", jsonType: "string", nullable: false, enumValues: ["allow", "log", "warn", "block"], pattern: null, maxLength: 8, maxItems: null, problem: "expected one of allow, block, log, warn" },
  { name: "clauses", jsonType: "array", nullable: false, enumValues: [], pattern: ids.CLAUSE_ID, maxLength: 200, maxItems: 20, problem: "expected a list of clause ids like \"8.1\"" },
  { name: "rule", jsonType: "string", nullable: false, enumValues: [], pattern: ids.IDENTIFIER, maxLength: 64, maxItems: null, problem: "expected an id like 'facebook' (a-z, 0-9, '_', '.', '-')" },
  { name: "working_time", jsonType: "boolean", nullable: false, enumValues: [], pattern: null, maxLength: 0, maxItems: null, problem: "expected true or false" },
  { name: "device_group", jsonType: "string", nullable: false, enumValues: [], pattern: ids.IDENTIFIER, maxLength: 64, maxItems: null, problem: "expected an id like 'facebook' (a-z, 0-9, '_', '.', '-')" },
  { name: "account", jsonType: "string", nullable: false, enumValues: ["school", "personal", "unknown"], pattern: null, maxLength: 8, maxItems: null, problem: "expected one of personal, school, unknown" },
  { name: "school_account", jsonType: "string", nullable: true, enumValues: [], pattern: ids.IDENTIFIER, maxLength: 64, maxItems: null, problem: "expected a school account id or null" },
  { name: "policy_version", jsonType: "string", nullable: false, enumValues: [], pattern: ids.IDENTIFIER, maxLength: 64, maxItems: null, problem: "expected a policy version id" },
  { name: "response", jsonType: "string", nullable: false, enumValues: ["none", "continued", "went_back"], pattern: null, maxLength: 16, maxItems: null, problem: "expected one of continued, none, went_back" },
  { name: "reason_category", jsonType: "string", nullable: true, enumValues: [], pattern: ids.IDENTIFIER, maxLength: 64, maxItems: null, problem: "expected a continue reason id or null" },
  { name: "held", jsonType: "boolean", nullable: false, enumValues: [], pattern: null, maxLength: 0, maxItems: null, problem: "expected true or false" },
  { name: "may_apply", jsonType: "array", nullable: false, enumValues: [], pattern: ids.CLAUSE_ID, maxLength: 200, maxItems: 20, problem: "expected a list of clause ids like \"8.1\"" },
]);
