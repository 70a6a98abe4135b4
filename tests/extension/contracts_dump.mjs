// For test_contract_twins.py: the JS twin's id patterns, vocabularies and event specs as JSON.
// Usage: node contracts_dump.mjs OUT.json
import { writeFileSync } from "node:fs";

import { EVENT_SPECS, MAX_CLAUSES, RESPONSES } from "../../extension/js/policy/event.js";
import { PATTERNS } from "../../extension/js/policy/ids.js";
import * as vocabulary from "../../extension/js/policy/vocabulary.js";

const [output] = process.argv.slice(2);
writeFileSync(
  output,
  JSON.stringify({
    patterns: Object.fromEntries(Object.entries(PATTERNS).map(([name, re]) => [name, re.source])),
    vocabulary: {
      CATEGORIES: vocabulary.CATEGORIES,
      ACTIONS: vocabulary.ACTIONS,
      OUTCOMES: vocabulary.OUTCOMES,
      ACCOUNT_KINDS: vocabulary.ACCOUNT_KINDS,
      PRIVACY_LEVELS: vocabulary.PRIVACY_LEVELS,
      RESPONSES,
    },
    max_clauses: MAX_CLAUSES,
    specs: EVENT_SPECS.map((s) => ({
      name: s.name,
      json_type: s.jsonType,
      nullable: s.nullable,
      enum: s.enum,
      pattern: s.pattern === null ? null : s.pattern.source,
      max_length: s.maxLength,
      max_items: s.maxItems,
      problem: s.problem,
    })),
  }),
);
