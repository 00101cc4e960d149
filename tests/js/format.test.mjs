import assert from "node:assert/strict";
import { test } from "node:test";

import {
  capitalize,
  dateBoxHint,
  dateOrder,
  effortUnits,
  formatValue,
  humanize,
  money,
  pct,
  pct1,
  plural,
  points,
  pts1,
  roundToTotal,
  roundedDelta,
  today,
} from "../../src/scalepredict/api/static/format.js";

test("chances are whole percentages, or one decimal where the page adds them up", () => {
  assert.equal(pct(0.456), "46%");
  assert.equal(pct(0), "0%");
  assert.equal(pct(1), "100%");
  assert.equal(pct1(0.4567), "45.7%");
  assert.equal(pct1(0.05), "5.0%");
});

test("a count agrees with its noun, the sign included", () => {
  assert.equal(plural(1, "month"), "1 month");
  assert.equal(plural(2, "month"), "2 months");
  assert.equal(plural(0, "proposal"), "0 proposals");
  assert.equal(plural(-1, "point"), "-1 point");
  assert.equal(plural(3, "person-month", "person-months"), "3 person-months");
  assert.equal(points(0.01), "+1 point");
  assert.equal(points(0.05), "+5 points");
  assert.equal(points(-0.01), "\u22121 point");
  assert.equal(points(-0.123), "\u221212 points");
  assert.equal(points(0), "+0 points");
});

test("a change in points has its sign, a minus sign and one decimal", () => {
  assert.equal(pts1(1.25), "+1.3");
  assert.equal(pts1(-0.4), "\u22120.4");
  assert.equal(pts1(0), "\u00b10.0");
});

test("names and values read as words", () => {
  assert.equal(humanize("scale_up"), "Scale up");
  assert.equal(humanize("x"), "X");
  assert.equal(capitalize("cannot reach the service"), "Cannot reach the service");
  assert.equal(formatValue(1250000), "1,250,000");
  assert.equal(formatValue("smart_grid"), "Smart grid");
  assert.equal(money(2500000), "2,500,000");
  assert.equal(money(null), "\u2013");
  assert.equal(money(undefined), "\u2013");
});

test("the what-if's change is the change of the two percentages shown", () => {
  // 0.444 shows as 44%, 0.456 as 46%: the sentence says +2 points, not +1.2
  assert.equal(roundedDelta({ before: { probability: 0.444 }, after: { probability: 0.456 } }), 0.02);
  assert.equal(points(roundedDelta({ before: { probability: 0.5 }, after: { probability: 0.49 } })), "\u22121 point");
});

test("effort is in the catalogue's unit, person-months unless it says otherwise", () => {
  assert.equal(effortUnits(null, 1), "1 person-month");
  assert.equal(effortUnits({}, 2.5), "2.5 person-months");
  assert.equal(effortUnits({}, 1.04), "1 person-month");
  const days = { effort_unit: { one: "day", many: "days" } };
  assert.equal(effortUnits(days, 3), "3 days");
});

test("rounded shares add up exactly to the rounded total", () => {
  assert.deepEqual(roundToTotal([1.04, 1.04, 1.04], 3.1), [1.1, 1, 1]);
  assert.deepEqual(roundToTotal([-2.26, 0.5], -1.8), [-2.3, 0.5]);
  // every case of a seeded stream: ten values of either sign, their sum to 0.1
  let seed = 7;
  const random = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31) * 20 - 10;
  for (let k = 0; k < 500; k++) {
    const values = Array.from({ length: 10 }, random);
    const total = values.reduce((a, b) => a + b, 0);
    const out = roundToTotal(values, total);
    const tenths = out.map((v) => Math.round(v * 10));
    assert.equal(tenths.reduce((a, b) => a + b, 0), Math.round(total * 10));
    out.forEach((v, i) => assert.ok(Math.abs(v - values[i]) < 0.1 + 1e-9, `${v} vs ${values[i]}`));
  }
});

test("a date box's order follows the browser's locale", () => {
  assert.equal(dateOrder("en-US"), "mm/dd/yyyy");
  assert.equal(dateOrder("de-DE"), "dd.mm.yyyy");
  assert.equal(dateOrder("en-GB"), "dd/mm/yyyy");
  assert.match(dateBoxHint("en-US"), /type it as mm\/dd\/yyyy.*sent as year-month-day/);
});

test("a printout's date is year-month-day", () => {
  assert.equal(today(new Date(Date.UTC(2026, 0, 5, 12))), "2026-01-05");
});
