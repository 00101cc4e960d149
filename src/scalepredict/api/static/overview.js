// The portfolio overview: how many proposals fall in each risk band and have each dimension as
// their weakest, as bar charts with a table of the same counts beside each (the table is the
// text alternative). Shares app.js's globals (state, el, svg, label, BAND_TEXT, BAND_ORDER).
"use strict";

function countBy(rows, key, order) {
  const counts = new Map(order.map((k) => [k, 0]));
  for (const r of rows) counts.set(r[key], (counts.get(r[key]) || 0) + 1);
  return [...counts.entries()];
}

function barChart(id, title, entries, text, cls) {
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

function renderOverview() {
  const rows = state.portfolio;
  const bands = countBy(rows, "risk_band", Object.keys(BAND_ORDER));
  const dims = countBy(
    rows,
    "weakest_name",
    state.catalogue.dimensions.map((d) => d.name),
  );
  $("portfolio-overview").replaceChildren(
    barChart("by-band", "Proposals by risk band", bands, (k) => BAND_TEXT[k] || k, (k) => `bar band-bar-${k}`),
    barChart("by-weakest", "Proposals by weakest dimension", dims, (k) => label(k), () => "bar"),
  );
}
