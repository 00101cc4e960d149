import assert from "node:assert/strict";
import { test } from "node:test";

import {
  csvCell,
  csvLine,
  decodeCsv,
  parseCsv,
  portfolioCsv,
  records,
  templateCsv,
} from "../../src/scalepredict/api/static/csv.js";
import { catalogue } from "./catalogue.mjs";

test("a file as a spreadsheet saves it: byte-order mark, CRLF, quotes, blank lines", () => {
  const bytes = new TextEncoder().encode('\ufeffid,name,note\r\nA-1,"Smith, J","said ""yes"""\r\n\r\nA-2,Lee,"two\nlines"\r\n');
  const rows = parseCsv(decodeCsv(bytes));
  assert.deepEqual(rows, [
    ["id", "name", "note"],
    ["A-1", "Smith, J", 'said "yes"'],
    ["A-2", "Lee", "two\nlines"],
  ]);
});

test("the separator is the header's: semicolon or tab when it has no comma", () => {
  assert.deepEqual(parseCsv("a;b\n1,5;2\n"), [["a", "b"], ["1,5", "2"]]);
  assert.deepEqual(parseCsv("a\tb\n1\t2"), [["a", "b"], ["1", "2"]]);
  assert.deepEqual(parseCsv("a,b;c\n1,2;3\n"), [["a", "b;c"], ["1", "2;3"]]);
  assert.deepEqual(parseCsv("a\n1\n"), [["a"], ["1"]]);
  assert.deepEqual(parseCsv(""), []);
});

test("rows become records by the header's trimmed names, a missing cell blank", () => {
  assert.deepEqual(records([[" id ", "city"], ["A-1 ", " Lyon"], ["A-2"]]), [
    { id: "A-1", city: "Lyon" },
    { id: "A-2", city: "" },
  ]);
  assert.deepEqual(records([]), []);
});

test("a part of a file sent again reads back as the same cells", () => {
  const rows = [["id", "note"], ["A-1", 'a "quoted", long\r\ncell'], ["A-2", ""]];
  assert.deepEqual(parseCsv(rows.map(csvLine).join("\n") + "\n"), [rows[0], rows[1], ["A-2", ""]]);
});

test("an exported cell never runs as a formula, and is quoted when it must be", () => {
  assert.equal(csvCell('=HYPERLINK("http://x")'), `"'=HYPERLINK(""http://x"")"`);
  for (const start of ["+", "-", "@", "\t", "\r"]) assert.ok(csvCell(`${start}x`).replace(/^"/, "").startsWith("'"), start);
  assert.equal(csvCell(-0.5), "-0.5"); // a number is a number
  assert.equal(csvCell("Lyon, FR"), '"Lyon, FR"');
  assert.equal(csvCell(null), "");
  assert.equal(csvCell(undefined), "");
  assert.equal(csvCell("plain"), "plain");
});

const row = (over) => ({
  initiative_id: "A-1",
  probability: 0.42,
  risk_band: "elevated",
  weakest: "Data",
  weakest_points: -3.456,
  uncertainty: "90% between 30% and 55%",
  decision: "fund",
  cost: 400000,
  ...over,
});

test("the portfolio's export has the table's columns, the budget's when one was chosen", () => {
  const plain = portfolioCsv([row({ plan_summary: "Raise data quality" }), row({ initiative_id: "@B" })], false);
  assert.equal(
    plain,
    "initiative_id,probability,risk_band,weakest_dimension,weakest_points,uncertainty,plan_summary\n" +
      "A-1,0.42,elevated,Data,-3.5,90% between 30% and 55%,Raise data quality\n" +
      "'@B,0.42,elevated,Data,-3.5,90% between 30% and 55%,\n",
  );
  const budgeted = portfolioCsv([row({ decision: "do not fund", cost: null })], true).split("\n");
  assert.ok(budgeted[0].endsWith(",plan_summary,decision,cost"));
  assert.ok(budgeted[1].endsWith(",,do not fund,"));
});

test("the empty template names the context fields, then every factor", () => {
  assert.equal(templateCsv(catalogue()), "initiative_id,city,stage,sector,assessed_on,budget_eur,benefit,users,quality\n");
});
