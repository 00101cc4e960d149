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
  const rows = visiblePortfolio();
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

// --- opening one row in the assessment view ---------------------------------------------------
// The uploaded file is read here too (comma, semicolon or tab, as the server reads it), so a
// row's answers can fill the form; only an opened row is scored with its plan.
function parseCsv(text) {
  const header = text.split("\n", 1)[0];
  const count = (d) => header.split(d).length - 1;
  const sep = count(",") === 0 && (count(";") || count("\t")) ? (count(";") >= count("\t") ? ";" : "\t") : ",";
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) row.push(cell), (cell = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      (row = []), (cell = "");
    } else cell += c;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows.filter((r) => r.some((c) => c !== ""));
}

function rememberRows(buffer) {
  const rows = parseCsv(new TextDecoder().decode(buffer).replace(/^\ufeff/, ""));
  const names = (rows.shift() || []).map((n) => n.trim());
  state.portfolioRows = rows.map((r) => Object.fromEntries(names.map((n, i) => [n, (r[i] ?? "").trim()])));
}

async function openRow(id) {
  const record = recordFor(id);
  if (!Object.keys(record).length) return;
  fillForm(record);
  selectTab($("tab-assess"));
  await assess({ preventDefault() {} });
  const row = state.portfolio.find((r) => r.initiative_id === id);
  if (row && state.assessment && state.assessment.initiative_id === id) {
    row.plan_summary = $("plan-summary").textContent;
  }
  $("result").scrollIntoView();
}

function onPortfolioRow(event) {
  const tr = event.target.closest("tbody tr");
  if (!tr || (event.type === "keydown" && event.key !== "Enter")) return;
  if (event.type === "keydown" && event.target.tagName === "BUTTON") return; // its click follows
  openRow(tr.dataset.id);
}

// --- filters: the catalogue's category fields and its grouping field (a non-unique text id) ---
function recordFor(id) {
  const rows = state.portfolioRows || [];
  const named = state.catalogue.identifier;
  return rows.find((r) => named && r[named] === id) || rows.find((r) => Object.values(r).includes(id)) || {};
}

function filterFields() {
  // the catalogue names its grouping field (a city, a country): filter by it and the categories
  const group = state.catalogue.group;
  return state.catalogue.context.filter((f) => f.type === "category" || f.name === group);
}

function renderFilters() {
  const fields = filterFields()
    .map((f) => [f, [...new Set(state.portfolio.map((r) => r.record[f.name]).filter(Boolean))].sort()])
    .filter(([, values]) => values.length > 1);
  $("portfolio-filters").replaceChildren(
    ...fields.map(([f, values]) => {
      const select = el(
        "select",
        { id: `filter-${f.name}`, "data-filter": f.name },
        el("option", { value: "", text: "All" }),
        ...values.map((v) => el("option", { value: v, text: humanize(v) })),
      );
      return el("div", { class: "filter" }, el("label", { for: select.id, text: label(f.name) }), select);
    }),
  );
  $("portfolio-filters").hidden = fields.length === 0;
  $("portfolio-filter-status").textContent = "";
}

function visiblePortfolio() {
  const chosen = [...document.querySelectorAll("#portfolio-filters [data-filter]")].filter((s) => s.value);
  return state.portfolio.filter((r) => chosen.every((s) => r.record[s.dataset.filter] === s.value));
}

function onFilter() {
  renderPortfolio();
  renderOverview();
  const shown = visiblePortfolio().length;
  $("portfolio-filter-status").textContent =
    shown === state.portfolio.length ? "" : `Showing ${shown} of ${state.portfolio.length} proposals.`;
}
