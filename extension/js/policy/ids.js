// policy/ids.py: every id pattern, once. Generated from Python (./generated/ids.js, by
// scripts/generate_js.py): the sources are Python's, written so the same text means the same in
// both languages (anchored `^...$`, `[0-9]` not `\d`).

export * from "./generated/ids.js";
