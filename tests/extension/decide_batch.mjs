// Evaluate many facts with the JS twin in one process (used by test_cross_check.py).
// Usage: node decide_batch.mjs IN.json OUT.json, IN = {"bundle": {...}, "facts": [...]};
// a fact may carry "body_b64" (raw bytes) instead of "body".
import { readFileSync, writeFileSync } from "node:fs";

import { decide } from "../../extension/js/policy/decide.js";
import { Policy } from "../../extension/js/policy/engine.js";

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
writeFileSync(output, JSON.stringify({ decisions }));
