// What the printed report and the waterfall say: answers in words, and shares that add up.
import assert from "node:assert/strict";
import { test } from "node:test";

import { waterfallRows } from "../../src/scalepredict/api/static/charts.js";
import { answerText, contextText } from "../../src/scalepredict/api/static/report.js";
import { catalogue } from "./catalogue.mjs";

const cat = catalogue();
const [benefit, users] = cat.dimensions[0].factors;

test("an answer reads as its level of the factor's own scale, with its meaning", () => {
  assert.equal(answerText(benefit, 5, cat.scale), "5 of 5 \u2013 Proven");
  assert.equal(answerText(benefit, 3, cat.scale), "3 of 5");
  assert.equal(answerText(users, 4, cat.scale), "4 of 4 \u2013 Many"); // the level's label
  assert.equal(answerText({ ...benefit, rubric: { 2: ["Some", "a longer text"] } }, 2, cat.scale), "2 of 5 \u2013 Some");
  for (const blank of [null, undefined, ""]) assert.equal(answerText(benefit, blank, cat.scale), "unknown (not answered)");
});

test("a context value reads as words", () => {
  const [, city, stage] = cat.context;
  assert.equal(contextText(stage, "scale_up"), "Scale up");
  assert.equal(contextText(city, "Lyon"), "Lyon");
  assert.equal(contextText({ type: "integer" }, 2500000), "2,500,000");
  assert.equal(contextText({ type: "boolean" }, true), "yes");
  assert.equal(contextText({ type: "boolean" }, false), "no");
  assert.equal(contextText(city, null), "not given");
});

test("the waterfall goes from the typical chance through each share to this one's, adding up", () => {
  const explanation = { typical_probability: 0.4123, dimension_points: { value: 3.04, data: -1.26, context: 2.15 } };
  const { typical, end, rows } = waterfallRows(cat, explanation, 0.4517);
  assert.equal(typical, 41.2);
  assert.equal(end, 45.2);
  assert.deepEqual(rows.map(([name]) => name), ["value", "data", "context"]); // context last
  const sum = rows.reduce((a, [, v]) => a + Math.round(v * 10), Math.round(typical * 10));
  assert.equal(sum, Math.round(end * 10));
});
