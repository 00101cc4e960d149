// The API reference page's reading of an OpenAPI document.
import assert from "node:assert/strict";
import { test } from "node:test";

import { codeSpans, enumOf, resolve, typeText } from "../../src/scalepredict/api/static/openapi.js";

const spec = {
  components: {
    schemas: {
      Proposal: { title: "Proposal", type: "object", properties: { city: { type: "string" } } },
      Band: { type: "string", enum: ["high", "low"] },
      Loop: { $ref: "#/components/schemas/Loop" },
    },
  },
};

test("references are resolved, a nullable one marked so", () => {
  assert.equal(resolve(spec, { $ref: "#/components/schemas/Band" }).enum.length, 2);
  const nullable = resolve(spec, { anyOf: [{ $ref: "#/components/schemas/Band" }, { type: "null" }] });
  assert.equal(nullable.nullable, true);
  assert.deepEqual(nullable.enum, ["high", "low"]);
  assert.deepEqual(resolve(spec, undefined), {});
  assert.ok(resolve(spec, { $ref: "#/components/schemas/Loop" })); // a loop ends
});

test("a type reads as words", () => {
  assert.equal(typeText(spec, { type: "integer" }), "integer");
  assert.equal(typeText(spec, { type: "array", items: { $ref: "#/components/schemas/Proposal" } }), "list of Proposal");
  assert.equal(typeText(spec, { anyOf: [{ type: "number" }, { type: "null" }] }), "number or null");
  assert.equal(typeText(spec, { anyOf: [{ type: "number" }, { type: "string" }] }), "number or string");
  assert.equal(typeText(spec, {}), "any");
});

test("allowed values of a field or of a list's items", () => {
  assert.deepEqual(enumOf({ enum: ["a"] }), ["a"]);
  assert.deepEqual(enumOf({ type: "array", items: { enum: ["b"] } }), ["b"]);
  assert.equal(enumOf({ type: "string" }), null);
});

test("a description's code spans are found, the rest stays text", () => {
  assert.deepEqual(codeSpans("Set `explain=false` to skip `plan`."), ["Set ", "explain=false", " to skip ", "plan", "."]);
  assert.deepEqual(codeSpans(null), [""]);
  assert.deepEqual(codeSpans("no code"), ["no code"]);
});
