// The portfolio: a CSV of proposals scored (a big file in parts, its progress shown), ranked in
// a sortable table, chosen within a budget, exported, and printed as the portfolio report.
import { ApiError, api } from "./api.js";
import { $, download, el } from "./dom.js";
import { csvLine, decodeCsv, parseCsv, portfolioCsv, records, templateCsv } from "./csv.js";
import { showProblems } from "./form.js";
import { BAND_TEXT, humanize, money, pct, plural, pts1, today } from "./format.js";
import { renderFilters, renderOverview, visiblePortfolio } from "./overview.js";
import { label, portfolioFrom, rankForReport, sortPortfolio } from "./state.js";

const PART_ROWS = 100; // rows explained per request of a big file
const BIG_FILE_ROWS = 200; // from this size the page explains in parts and shows progress

// The numeric context fields a cost may come from; a field named for a budget or cost first.
export function fillCostFields(catalogue) {
  const numeric = catalogue.context.filter((f) => f.type === "integer" || f.type === "number");
  const likely = numeric.find((f) => /budget|cost|fund|amount/i.test(f.name));
  $("cost-field").replaceChildren(
    ...numeric.map((f) => el("option", { value: f.name, text: f.label || humanize(f.name), selected: f === likely })),
  );
}

// The budget asked for, or null (rank only); a budget that cannot be used is the user's error.
function budgetRequest() {
  const input = $("budget");
  const text = input.value.trim();
  input.removeAttribute("aria-invalid");
  if (text === "" && !input.validity.badInput) return null;
  const budget = Number(text);
  if (text === "" || !Number.isFinite(budget) || budget < 0) {
    input.setAttribute("aria-invalid", "true");
    throw new ApiError(0, { error: "the budget must be a number of at least 0 (or empty to rank only)" });
  }
  return { budget, cost: $("cost-field").value };
}

function progress(text, done, total) {
  $("portfolio-progress").hidden = false;
  $("portfolio-progress-text").textContent = text;
  const bar = $("portfolio-progress-bar");
  bar.max = total;
  bar.value = done;
}

// A small file: one request. A big one: first the whole file without explanations (every cell
// checked at once, problems named by the file's own rows, the budget chosen over all of it),
// then its rows in parts of PART_ROWS with their explanations, the progress shown after each.
async function scoreInParts(state, buffer, filename, choice, seq) {
  const query = (extra) => {
    const q = new URLSearchParams({ filename, ...extra });
    if (choice) q.set("budget", String(choice.budget)), q.set("cost", choice.cost);
    return `/portfolio?${q}`;
  };
  const post = (path, body) => api(state, path, { method: "POST", body, contentType: "text/csv" });
  const rows = parseCsv(decodeCsv(buffer));
  const header = rows.shift() || [];
  if (rows.length < BIG_FILE_ROWS) return post(query({}), buffer);
  const total = rows.length;
  progress(`Checking and scoring ${plural(total, "proposal")}\u2026`, 0, total);
  const whole = await post(query({ explain: "false" }), buffer);
  for (let start = 0; start < total; start += PART_ROWS) {
    if (seq !== state.portfolioSeq) return null; // another upload, or signed out
    progress(`Explaining: ${start.toLocaleString("en")} of ${total.toLocaleString("en")} proposals done`, start, total);
    const part = rows.slice(start, start + PART_ROWS);
    const text = [header, ...part].map(csvLine).join("\n") + "\n";
    const data = await post(`/portfolio?${new URLSearchParams({ filename })}`, text);
    if (data.model.version !== whole.model.version)
      throw new ApiError(0, { error: "the model changed while the file was scored: score it again" });
    data.results.forEach((r, k) => (whole.results[start + k].explanation = r.explanation));
  }
  progress(`Explained all ${plural(total, "proposal")}.`, total, total);
  return whole;
}

export async function scorePortfolio(state, event) {
  event.preventDefault();
  const file = $("csv-file").files[0];
  const errors = $("portfolio-errors");
  const button = $("portfolio-button");
  errors.hidden = true;
  const seq = ++state.portfolioSeq; // only the latest upload may fill the table
  button.disabled = true;
  $("panel-portfolio").setAttribute("aria-busy", "true");
  try {
    if (!file) throw new ApiError(0, { error: "choose a CSV file first" });
    const choice = budgetRequest();
    let body;
    try {
      body = await file.arrayBuffer();
    } catch (err) {
      throw new ApiError(0, { error: `cannot read ${file.name}: choose the file again` });
    }
    const data = await scoreInParts(state, body, file.name, choice, seq);
    if (!data || seq !== state.portfolioSeq) return;
    // the file's own rows, so that an opened row's answers fill the form
    state.portfolioRows = records(parseCsv(decodeCsv(body)));
    portfolioFrom(state, data);
    renderFilters(state);
    renderPortfolio(state);
    renderOverview(state);
    $("portfolio-summary").textContent =
      `${state.portfolio.length} proposals from ${file.name} scored with model v${data.model.version}.`;
    $("portfolio-result").hidden = false;
    renderBudget(state);
    updateTableCue();
  } catch (err) {
    if (seq !== state.portfolioSeq) return;
    $("portfolio-result").hidden = true;
    if (err.status !== 401) showProblems(state, errors, err);
  } finally {
    if (seq === state.portfolioSeq) {
      button.disabled = false;
      $("panel-portfolio").setAttribute("aria-busy", "false");
      $("portfolio-progress").hidden = true;
    }
  }
}

export function renderPortfolio(state) {
  for (const th of $("portfolio-table").querySelectorAll("th")) {
    const button = th.querySelector("button");
    if (!button) continue;
    const active = button.dataset.sort === state.sort.key;
    th.setAttribute("aria-sort", active ? (state.sort.ascending ? "ascending" : "descending") : "none");
  }
  const body = $("portfolio-table").querySelector("tbody");
  body.replaceChildren(
    ...visiblePortfolio(state).map((r) =>
      el(
        "tr",
        { "data-id": r.initiative_id, class: "openable" },
        el("th", { scope: "row" }, el("button", { type: "button", class: "link", title: "Open its explanation and plan", text: r.initiative_id })),
        el("td", { class: "num", "data-probability": r.probability, text: r.probability < 0.01 ? "<1%" : pct(r.probability) }),
        el("td", {}, el("span", { class: `band band-${r.risk_band}`, text: BAND_TEXT[r.risk_band] })),
        el("td", { text: `${r.weakest} (${pts1(r.weakest_points)} points)` }),
        el("td", { text: r.uncertainty }),
        ...(state.budget
          ? [
              el("td", { class: `decision decision-${r.decision === "fund" ? "fund" : "no"}`, text: r.decision === "fund" ? "Fund" : "Do not fund" }),
              el("td", { class: "num", text: money(r.cost) }),
            ]
          : []),
      ),
    ),
  );
  for (const th of $("portfolio-table").querySelectorAll(".budget-col")) th.hidden = !state.budget;
}

export function onSort(state, key) {
  sortPortfolio(state, key);
  renderPortfolio(state);
}

export function onFilter(state) {
  renderPortfolio(state);
  renderOverview(state);
  const shown = visiblePortfolio(state).length;
  $("portfolio-filter-status").textContent =
    shown === state.portfolio.length ? "" : `Showing ${shown} of ${state.portfolio.length} proposals.`;
}

// The chosen set in words, beside the table's decision column.
function renderBudget(state) {
  const box = $("portfolio-budget");
  const b = state.budget;
  box.hidden = !b;
  if (!b) return;
  const of = state.portfolio.length;
  box.textContent =
    `Within the budget of ${money(b.budget)} (each proposal's cost: ${label(state, b.cost_field)}): ` +
    `fund ${b.chosen} of ${plural(of, "proposal")}, spending ${money(b.spent)}, for ` +
    `${b.expected_successes.toFixed(1)} expected successes (the sum of their chances). Funding every ` +
    `proposal would cost ${money(b.cost_all)} for ${b.expected_successes_all.toFixed(1)}.` +
    (b.proven_best ? "" : " The search stopped at its time limit: a better set may exist.");
}

// A table wider than its box (a phone) says so, and scrolls sideways in its own region.
export function updateTableCue() {
  const wrap = $("portfolio-wrap");
  $("table-cue").hidden = $("portfolio-result").hidden || wrap.scrollWidth <= wrap.clientWidth + 1;
}

export function exportPortfolio(state) {
  download("scalepredict-portfolio.csv", portfolioCsv(visiblePortfolio(state), Boolean(state.budget)), "text/csv");
}

export function downloadTemplate(state) {
  download("scalepredict-template.csv", templateCsv(state.catalogue), "text/csv");
}

// The portfolio report: counts, charts and the list ranked by chance (funded first with a budget).
export function printPortfolio(state) {
  rankForReport(state);
  renderPortfolio(state);
  const m = state.model || {};
  $("portfolio-meta").textContent =
    `Portfolio report \u00b7 ${$("portfolio-summary").textContent} Ranked by chance` +
    `${state.budget ? ", the funded proposals first" : ""}. Model ${m.name} v${m.version}` +
    `${m.card && m.card.summary ? `: ${m.card.summary}` : ""}. Printed ${today()}.`;
  window.print();
}
