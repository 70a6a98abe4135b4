// Evaluate many facts with the JS twin in one process (used by test_cross_check.py).
// Usage: node decide_batch.mjs IN.json OUT.json, IN = {"bundle": {...}, "facts": [...]};
// a fact may carry "body_b64" (raw bytes) instead of "body".
import { readFileSync, writeFileSync } from "node:fs";

import { ACTION_LABELS, CATEGORY_LABELS, Policy, decide } from "../../extension/js/decide.js";

const [input, output] = process.argv.slice(2);
const { bundle, facts } = JSON.parse(readFileSync(input, "utf-8"));
const policy = new Policy(bundle);
const decisions = facts.map((f) => {
  const raw = f.body_b64 === undefined ? f : { ...f, body: new Uint8Array(Buffer.from(f.body_b64, "base64")) };
  try {
    return decide(raw, policy);
  } catch (err) {
    return { error: String(err) };
  }
});
writeFileSync(output, JSON.stringify({ decisions, labels: { ACTION_LABELS, CATEGORY_LABELS } }));
