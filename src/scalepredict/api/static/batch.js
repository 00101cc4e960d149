// Decisions on a batch: the budget and cost fields, a big file scored in parts with its
// progress shown, the chosen set summed up, and the portfolio report. Shares app.js's globals
// (state, $, el, api, ApiError, pct, plural, label) and overview.js's parseCsv.
"use strict";

const PART_ROWS = 100; // rows explained per request of a big file
const BIG_FILE_ROWS = 200; // from this size the page explains in parts and shows progress

// The numeric context fields a cost may come from; a field named for a budget or cost first.
function fillCostFields(catalogue) {
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

const money = (v) => (v === null || v === undefined ? "\u2013" : Number(v).toLocaleString("en"));

function progress(text, done, total) {
  $("portfolio-progress").hidden = false;
  $("portfolio-progress-text").textContent = text;
  const bar = $("portfolio-progress-bar");
  bar.max = total;
  bar.value = done;
}

function csvLine(cells) {
  return cells.map((c) => (/[",\n\r]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(",");
}

// A small file: one request. A big one: first the whole file without explanations (every cell
// checked at once, problems named by the file's own rows, the budget chosen over all of it),
// then its rows in parts of PART_ROWS with their explanations, the progress shown after each.
async function scoreInParts(buffer, filename, choice, seq) {
  const query = (extra) => {
    const q = new URLSearchParams({ filename, ...extra });
    if (choice) q.set("budget", String(choice.budget)), q.set("cost", choice.cost);
    return `/portfolio?${q}`;
  };
  const post = (path, body) => api(path, { method: "POST", body, contentType: "text/csv" });
  const rows = parseCsv(new TextDecoder().decode(buffer).replace(/^\ufeff/, ""));
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

// The chosen set in words, beside the table's decision column.
function renderBudget() {
  const box = $("portfolio-budget");
  const b = state.budget;
  box.hidden = !b;
  if (!b) return;
  const of = state.portfolio.length;
  box.textContent =
    `Within the budget of ${money(b.budget)} (each proposal's cost: ${label(b.cost_field)}): ` +
    `fund ${b.chosen} of ${plural(of, "proposal")}, spending ${money(b.spent)}, for ` +
    `${b.expected_successes.toFixed(1)} expected successes (the sum of their chances). Funding every ` +
    `proposal would cost ${money(b.cost_all)} for ${b.expected_successes_all.toFixed(1)}.` +
    (b.proven_best ? "" : " The search stopped at its time limit: a better set may exist.");
}

// A table wider than its box (a phone) says so, and scrolls sideways in its own region.
function updateTableCue() {
  const wrap = $("portfolio-wrap");
  $("table-cue").hidden = $("portfolio-result").hidden || wrap.scrollWidth <= wrap.clientWidth + 1;
}

// The portfolio report: counts, charts and the list ranked by chance (funded first with a budget).
function printPortfolio() {
  const byChance = (a, b) => b.probability - a.probability;
  const rank = state.budget ? (a, b) => (a.decision === b.decision ? byChance(a, b) : a.decision === "fund" ? -1 : 1) : byChance;
  state.portfolio.sort(rank);
  state.sort = { key: null, ascending: true };
  renderPortfolio();
  const m = state.model || {};
  $("portfolio-meta").textContent =
    `Portfolio report \u00b7 ${$("portfolio-summary").textContent} Ranked by chance` +
    `${state.budget ? ", the funded proposals first" : ""}. Model ${m.name} v${m.version}` +
    `${m.card && m.card.summary ? `: ${m.card.summary}` : ""}. Printed ${new Date().toISOString().slice(0, 10)}.`;
  window.print();
}
