// policy/vocabulary.py: the closed vocabularies shared by the core, the events and the bundle, and
// their labels, in Python's order. Generated from Python (./generated/vocabulary.js, by
// scripts/generate_js.py).

export * from "./generated/vocabulary.js";
