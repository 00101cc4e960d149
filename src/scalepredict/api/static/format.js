// How the page writes numbers and names for people: chances, percentage points, counts with
// their nouns, money, dates. Pure functions (no DOM, no state): `node --test` checks them.

export const BAND_TEXT = {
  high: "High risk",
  elevated: "Elevated risk",
  moderate: "Moderate risk",
  low: "Low risk",
};
export const BAND_ORDER = { high: 0, elevated: 1, moderate: 2, low: 3 };

export const pct = (p) => `${Math.round(p * 100)}%`;
export const pct1 = (p) => `${(p * 100).toFixed(1)}%`;
// a signed change in points with one decimal: "+1.2", "−0.4", "±0.0"
export const pts1 = (v) => `${v > 0 ? "+" : v < 0 ? "\u2212" : "\u00b1"}${Math.abs(v).toFixed(1)}`;
// a count with its noun in agreement: "1 month", "2 months", "+1 point"
export const plural = (n, one, many = `${one}s`) => `${n} ${Math.abs(n) === 1 ? one : many}`;
export const points = (d) => `${d >= 0 ? "+" : "\u2212"}${plural(Math.abs(Math.round(d * 100)), "point")}`;
export const humanize = (name) => name.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
export const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);
export const money = (v) => (v === null || v === undefined ? "\u2013" : Number(v).toLocaleString("en"));

export function formatValue(v) {
  if (typeof v === "number") return v.toLocaleString("en");
  return humanize(String(v));
}

// the change between the two percentages shown, so the sentence adds up on screen
export const roundedDelta = (w) => (Math.round(w.after.probability * 100) - Math.round(w.before.probability * 100)) / 100;

// Effort in the catalogue's own unit (person-months unless it says otherwise): each step
// costs its effort level's cost (low 1, medium 2, high 4 in the built-in catalogue).
export const effortUnit = (catalogue) => (catalogue && catalogue.effort_unit) || { one: "person-month", many: "person-months" };
export const effortUnits = (catalogue, n) => plural(Number(n.toFixed(1)), effortUnit(catalogue).one, effortUnit(catalogue).many);

// Each value rounded to 0.1 so that the rounded values add up exactly to `total` rounded to
// 0.1 (largest remainder): the waterfall's numbers add up on screen.
export function roundToTotal(values, total) {
  const scaled = values.map((v) => v * 10);
  const out = scaled.map(Math.floor);
  let left = Math.round(total * 10) - out.reduce((a, b) => a + b, 0);
  const order = scaled.map((v, i) => [v - out[i], i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0 && k < order.length; k++, left--) out[order[k][1]] += 1;
  for (let k = order.length - 1; left < 0 && k >= 0; k--, left++) out[order[k][1]] -= 1;
  return out.map((v) => v / 10);
}

// How a date box reads in a locale: "mm/dd/yyyy" (en-US), "dd.mm.yyyy" (de-DE), ...
export function dateOrder(locale) {
  const parts = new Intl.DateTimeFormat(locale, { year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date(2001, 10, 22));
  return parts.map((p) => ({ year: "yyyy", month: "mm", day: "dd" })[p.type] || p.value).join("");
}

export const dateBoxHint = (locale) =>
  `In this box type it as ${dateOrder(locale)}, or pick it in the calendar; it is sent as year-month-day.`;

export const today = (now = new Date()) => now.toISOString().slice(0, 10);
