// The Tell form's recipients in the extension (js/tell.js): the bundle's report_recipients, or the
// Headteacher alone for a bundle from before them; a report to someone who does not receive its
// kind is refused on `to` before anything is sent (the service refuses it too).
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { test } from "node:test";

import { KINDS, recipientsOf, reportProblems } from "../js/tell.js";

const RECIPIENTS = [
  { id: "headteacher", role: "headteacher", label: "the Headteacher", receives: ["contact", "safeguarding", "press", "reputation", "other"] },
  { id: "lm-ks1", role: "line_manager", label: "Mr Lee", receives: ["misuse", "comment", "other"] },
];
const REPORT = { kind: "misuse", to: "lm-ks1", platform: null, what_happened: "x", name: "Sam", contact: "Room 4" };

test("a report to the recipient that receives its kind has no problem", () => {
  assert.deepEqual(reportProblems(REPORT, [], RECIPIENTS), {});
});

test("a press enquiry to a line manager is refused naming the Headteacher (clause 10.2)", () => {
  const problems = reportProblems({ ...REPORT, kind: "press" }, [], RECIPIENTS);
  assert.equal(problems.to, "Mr Lee does not receive this kind of report: choose the Headteacher.");
});

test("a recipient the school does not have is refused", () => {
  assert.equal(reportProblems({ ...REPORT, to: "nobody" }, [], RECIPIENTS).to, "Choose who receives it.");
});

test("a bundle from before recipients offers the Headteacher alone, for every kind", () => {
  assert.deepEqual(recipientsOf({}).map((r) => [r.id, r.receives]), [["headteacher", Object.keys(KINDS)]]);
});

test("the built-in bundle offers the Headteacher first", () => {
  const bundle = JSON.parse(readFileSync(new URL("../default-bundle.json", import.meta.url), "utf-8"));
  assert.equal(recipientsOf(bundle)[0].id, "headteacher");
});
