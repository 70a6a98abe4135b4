// For test_extension_regex.py: search every string with every pattern, compiled by py-regex.js.
// Usage: node regex_batch.mjs IN.json OUT.json, IN = {"patterns": [...], "strings": [...]}
import { readFileSync, writeFileSync } from "node:fs";

import { pyRegex } from "../../extension/js/policy/py-regex.js";

const [input, output] = process.argv.slice(2);
const { patterns, strings } = JSON.parse(readFileSync(input, "utf-8"));
const results = patterns.map((p) => {
  try {
    const re = pyRegex(p);
    return strings.map((s) => {
      const m = re.exec(s);
      return m === null ? null : [m[0], m[1] ?? null];
    });
  } catch (err) {
    return String(err);
  }
});
writeFileSync(output, JSON.stringify(results));
