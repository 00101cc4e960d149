// The form's pure rules: a file's cell read as a list's option, a control's text as a value,
// a problem the service names placed at its row and field.
import assert from "node:assert/strict";
import { test } from "node:test";

import { matchOption, problemText, valueOf } from "../../src/scalepredict/api/static/form.js";

const levels = [
  { value: "", text: "Unknown" },
  { value: "1", text: "1 \u2013 Highly Unsatisfactory" },
  { value: "2", text: "2 \u2013 Unsatisfactory" },
  { value: "4", text: "4 \u2013 Moderately Satisfactory \u2013 mostly" },
];
const categories = [
  { value: "", text: "Choose\u2026" },
  { value: "pilot", text: "Pilot" },
  { value: "scale_up", text: "Scale up" },
];
const yesNo = [
  { value: "", text: "Choose\u2026" },
  { value: "true", text: "Yes" },
  { value: "false", text: "No" },
];

test("a level as a file writes it: the level, 2.0 as pandas writes it, or its label", () => {
  assert.equal(matchOption(levels, undefined, "2"), "2");
  assert.equal(matchOption(levels, undefined, " 2.0 "), "2");
  assert.equal(matchOption(levels, undefined, "unsatisfactory"), "2");
  assert.equal(matchOption(levels, undefined, "Moderately Satisfactory \u2013 mostly"), "4");
});

test("what matches no option is left unanswered, as the server reads it", () => {
  assert.equal(matchOption(levels, undefined, "3"), "");
  assert.equal(matchOption(levels, undefined, "n/a"), "");
  assert.equal(matchOption(levels, undefined, ""), "");
  assert.equal(matchOption(categories, "category", "Satisfactory"), "");
});

test("a category matches in any case, a boolean in the server's words", () => {
  assert.equal(matchOption(categories, "category", "SCALE_UP"), "scale_up");
  for (const yes of ["true", "Yes", "y", "T", "1", "1.0"]) assert.equal(matchOption(yesNo, "boolean", yes), "true", yes);
  for (const no of ["false", "NO", "n", "f", "0", "0.0"]) assert.equal(matchOption(yesNo, "boolean", no), "false", no);
  assert.equal(matchOption(yesNo, "boolean", "maybe"), "");
});

test("a control's text is sent as null, a number, a boolean or the text", () => {
  assert.equal(valueOf("  "), null);
  assert.equal(valueOf("3", { factor: true }), 3);
  assert.equal(valueOf("2500000", { kind: "integer" }), 2500000);
  assert.equal(valueOf("1.5", { kind: "number" }), 1.5);
  assert.equal(valueOf("true", { kind: "boolean" }), true);
  assert.equal(valueOf("false", { kind: "boolean" }), false);
  assert.equal(valueOf(" 2024-03-01 ", { kind: "date" }), "2024-03-01");
  assert.equal(valueOf("Lyon", { kind: "text" }), "Lyon");
});

test("a problem is placed at its file row and column, or at its field's label", () => {
  const labelOf = (name) => ({ budget_eur: "Budget (EUR)" })[name] || name;
  assert.deepEqual(problemText({ row: 3, initiative_id: "A-3", column: "budget_eur", rule: "must be a whole number", value: "lots" }, labelOf), {
    field: "budget_eur",
    text: "Row 3 (A-3), budget_eur: must be a whole number (got \u201clots\u201d)",
  });
  assert.deepEqual(problemText({ path: "proposals.0.budget_eur", rule: "is required", value: null }, labelOf), {
    field: "budget_eur",
    text: "Budget (EUR): is required",
  });
  assert.equal(problemText({ row: 2, column: "x", rule: "unknown", value: "" }, labelOf).text, "Row 2, x: unknown");
});
