// The page's charts, drawn as SVG with a text alternative beside each: the waterfall of one
// assessment (in percentage points, from a typical initiative to this one) and the
// portfolio's bar charts (a table of the same counts beside each).
import { $, el, svg } from "./dom.js";
import { pts1, roundToTotal } from "./format.js";
import { label } from "./state.js";

// The waterfall's figures: the typical chance, each dimension's share then the context's
// (which no plan changes), rounded so they add up to this initiative's chance, in percent.
export function waterfallRows(catalogue, explanation, probability) {
  const names = [...catalogue.dimensions.map((d) => d.name), "context"];
  const typical = Math.round(explanation.typical_probability * 1000) / 10;
  const end = Math.round(probability * 1000) / 10;
  const shown = roundToTotal(names.map((n) => explanation.dimension_points[n]), end - typical);
  return { typical, end, rows: names.map((n, i) => [n, shown[i]]) };
}

export function renderWaterfall(state, explanation, probability) {
  const host = $("waterfall");
  const { typical, end, rows } = waterfallRows(state.catalogue, explanation, probability);
  $("typical-chance").textContent = `${typical.toFixed(1)}%`;
  // printed: the width of an A4 page's text, whatever the screen (see report.js)
  const width = state.printing ? 680 : Math.max(260, Math.min(720, host.clientWidth || 600));
  // narrow screens: each label on its own line above its bar, so no label is cut off
  const stacked = width < 520;
  const labelW = stacked ? 0 : 190;
  const valueW = 84;
  const rowH = stacked ? 42 : 30;
  const barY = stacked ? 20 : 6; // bar top within its row
  const height = rowH * (rows.length + 2) + 8;
  let lo = Math.min(typical, end);
  let hi = Math.max(typical, end);
  let run = typical;
  for (const [, v] of rows) {
    run += v;
    lo = Math.min(lo, run);
    hi = Math.max(hi, run);
  }
  const pad = (hi - lo) * 0.05 || 1;
  lo = Math.max(0, lo - pad);
  hi = Math.min(100, hi + pad);
  const x0 = stacked ? 2 : labelW + 8;
  const x1 = width - valueW;
  const x = (v) => x0 + ((v - lo) / (hi - lo || 1)) * (x1 - x0);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-labelledby": "waterfall-svg-title",
    class: "waterfall",
  });
  chart.append(
    svg("title", { id: "waterfall-svg-title" }, "How each dimension moves the chance, in percentage points"),
  );
  const name = (y, text, cls = "") =>
    stacked
      ? svg("text", { x: 0, y: y + 14, class: cls }, text)
      : svg("text", { x: labelW, y: y + barY + 13, "text-anchor": "end", class: cls }, text);
  const value = (y, text, cls = "") =>
    svg("text", { x: width - 2, y: y + barY + 13, "text-anchor": "end", class: cls }, text);
  const mark = (y, at) => svg("rect", { x: x(at) - 2, y: y + barY, width: 4, height: 18, class: "mark" });
  let y = 4;
  chart.append(
    name(y, "Typical initiative", "strong"),
    mark(y, typical),
    value(y, `${typical.toFixed(1)}%`, "strong"),
  );
  y += rowH;
  run = typical;
  const described = [];
  for (const [field, v] of rows) {
    const a = x(run);
    const b = x(run + v);
    const bar = { x: Math.min(a, b), y: y + barY, width: Math.max(2, Math.abs(b - a)), height: 18 };
    const text = field === "context" ? "Context (cannot change)" : label(state, field);
    chart.append(
      name(y, text, field === "context" ? "context-row" : ""),
      svg("rect", { ...bar, class: `${v >= 0 ? "up" : "down"}${field === "context" ? " context" : ""}` }),
      value(y, `${v > 0 ? "\u25B2" : v < 0 ? "\u25BC" : ""} ${pts1(v)} pts`),
    );
    described.push(`${text} ${v >= 0 ? "adds" : "takes away"} ${Math.abs(v).toFixed(1)} points`);
    run += v;
    y += rowH;
  }
  chart.append(name(y, "This initiative", "strong"), mark(y, end), value(y, `${end.toFixed(1)}%`, "strong"));
  const note = el("p", {
    class: "visually-hidden",
    text: `From a typical initiative's ${typical.toFixed(1)}%: ${described.join("; ")}; this initiative: ${end.toFixed(1)}%.`,
  });
  host.replaceChildren(chart, note);
}

// Horizontal bars of counts ([key, n] entries), with the same counts as a table.
export function barChart(id, title, entries, text, cls) {
  const width = 420;
  const labelW = 170;
  const rowH = 26;
  const max = Math.max(1, ...entries.map(([, n]) => n));
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${entries.length * rowH + 4}`,
    width,
    height: entries.length * rowH + 4,
    role: "img",
    "aria-labelledby": `${id}-svg-title`,
    class: "overview-chart",
  });
  chart.append(svg("title", { id: `${id}-svg-title` }, title));
  entries.forEach(([key, n], i) => {
    const y = i * rowH + 4;
    const w = ((width - labelW - 50) * n) / max;
    chart.append(
      svg("text", { x: labelW - 6, y: y + 14, "text-anchor": "end" }, text(key)),
      svg("rect", { x: labelW, y, width: Math.max(n ? 2 : 0, w), height: 18, class: cls(key) }),
      svg("text", { x: labelW + w + 6, y: y + 14, class: "count", "data-key": key }, String(n)),
    );
  });
  const table = el(
    "table",
    { class: "compact overview-table", id: `${id}-table` },
    el("caption", { text: title }),
    el("thead", {}, el("tr", {}, el("th", { scope: "col", text: "Group" }), el("th", { scope: "col", text: "Proposals" }))),
    el(
      "tbody",
      {},
      ...entries.map(([key, n]) =>
        el("tr", {}, el("th", { scope: "row", text: text(key) }), el("td", { class: "num", "data-key": key, text: String(n) })),
      ),
    ),
  );
  return el("figure", { class: "overview-figure", id }, chart, table);
}
