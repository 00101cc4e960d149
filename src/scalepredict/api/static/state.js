// The page's state: one object made by `createState`, handed to every function that reads or
// changes it (no module keeps its own copy), and the pure rules over it: labels, the changes
// of a what-if, the scenarios, the portfolio's rows, order and filters. No DOM: `node --test`
// checks these.
import { BAND_ORDER, humanize } from "./format.js";

export function createState() {
  return {
    key: null,
    model: null, // what GET /model says of the model serving
    catalogue: null,
    labels: {}, // field or dimension name -> label for people
    factorDimension: {},
    scored: null, // the proposal last assessed, exactly as sent
    assessment: null, // its assessment (with plan)
    shown: null, // what the result panel shows now: { assessment, whatif }
    planFor: null, // the assessment whose plan is on screen
    ownScenarios: [], // the planner's own what-ifs, saved under a name
    importedScenarios: null, // a saved file's scenarios, until its assessment comes back
    whatifSeq: 0, // only the latest what-if may fill the result
    whatifTimer: null,
    portfolioSeq: 0, // only the latest upload may fill the table
    portfolio: [],
    portfolioRows: [], // the uploaded file's rows, by column name
    budget: null, // the budget's summary from the service, if one was chosen
    sort: { key: null, ascending: true },
    printing: false, // the report is being printed (the waterfall takes the page's width)
  };
}

export const label = (state, name) => state.labels[name] || humanize(name);

// The catalogue's names for people: dimensions, factors, context fields, themes.
export function useCatalogue(state, catalogue) {
  state.catalogue = catalogue;
  for (const d of catalogue.dimensions) {
    state.labels[d.name] = d.label;
    for (const f of d.factors) {
      state.labels[f.name] = f.label;
      state.factorDimension[f.name] = d.name;
    }
  }
  state.labels.context = "Context";
  for (const f of catalogue.context) state.labels[f.name] = f.label || humanize(f.name);
  for (const [name, theme] of Object.entries(catalogue.themes)) state.labels[name] = theme.label;
}

export function factorOf(catalogue, name) {
  for (const d of catalogue.dimensions) for (const f of d.factors) if (f.name === name) return f;
  return null;
}

// A new assessment on screen: its own scenarios are the ones of an opened file, if any.
export function assessed(state, proposal, assessment) {
  state.scored = proposal;
  state.assessment = assessment;
  state.ownScenarios = state.importedScenarios || [];
  state.importedScenarios = null;
  state.whatifSeq++; // any what-if still in flight is about the old proposal
}

// Back to "nothing assessed yet".
export function forgetAssessment(state) {
  clearTimeout(state.whatifTimer); // a what-if typed just before is about nothing now
  state.whatifTimer = null;
  state.whatifSeq++; // and one in flight may not fill the result
  state.scored = null;
  state.assessment = null;
  state.shown = null;
  state.planFor = null;
  state.ownScenarios = [];
}

// The factors answered otherwise than assessed, and whether the context changed (a what-if
// changes factors only).
export function factorChanges(catalogue, scored, now) {
  const changes = {};
  for (const d of catalogue.dimensions)
    for (const f of d.factors) if (now[f.name] !== scored[f.name]) changes[f.name] = now[f.name];
  const contextChanged = catalogue.context.some((f) => now[f.name] !== scored[f.name]);
  return { changes, contextChanged };
}

export function changedText(state, changes) {
  const list = Object.entries(changes).map(([f, v]) => `${label(state, f)} ${state.scored[f] ?? "unknown"} \u2192 ${v ?? "unknown"}`);
  return list.length ? list.join("; ") : "none";
}

// As assessed, then each plan step (cumulative, the plan's expected chance), then the
// planner's own what-ifs (the model's chance for the changed answers).
export function scenarios(state) {
  if (!state.assessment) return [];
  const out = [{ name: "As assessed", probability: state.assessment.probability, effort: 0, changes: {} }];
  const changes = {};
  let effort = 0;
  const costs = state.catalogue.efforts || {};
  state.assessment.plan.actions.forEach((a, i) => {
    changes[a.factor] = a.to;
    effort += costs[a.effort] || 0;
    out.push({ name: `Plan step ${i + 1}`, probability: a.expected_probability, effort, changes: { ...changes }, step: i });
  });
  return [...out, ...state.ownScenarios];
}

// The what-if on screen saved under a name (a default one when none is given), or null when
// nothing is changed.
export function saveScenario(state, name) {
  const shown = state.shown;
  if (!shown || !shown.whatif) return null;
  const scenario = {
    name: name || `What-if ${state.ownScenarios.length + 1}`,
    probability: shown.assessment.probability,
    effort: null,
    changes: { ...shown.whatif.changes },
  };
  state.ownScenarios.push(scenario);
  return scenario;
}

// --- the portfolio ---------------------------------------------------------------------------
// The dimension taking the most away, in percentage points of the chance (as the waterfall).
export function weakestDimension(catalogue, explanation) {
  let best = null;
  for (const d of catalogue.dimensions) {
    const v = explanation.dimension_points[d.name];
    if (best === null || v < best.value) best = { name: d.name, value: v };
  }
  return best;
}

// The uploaded row of an initiative: by the catalogue's identifier, else any cell equal to it.
export function recordFor(state, id) {
  const rows = state.portfolioRows || [];
  const named = state.catalogue.identifier;
  return rows.find((r) => named && r[named] === id) || rows.find((r) => Object.values(r).includes(id)) || {};
}

// The service's answer for a file as the table's rows, in the file's order.
export function portfolioFrom(state, data) {
  state.portfolio = data.results.map((r) => {
    const w = weakestDimension(state.catalogue, r.explanation);
    return {
      initiative_id: r.initiative_id,
      record: recordFor(state, r.initiative_id),
      probability: r.probability,
      risk_band: r.risk_band,
      weakest: label(state, w.name),
      weakest_name: w.name,
      weakest_points: w.value,
      uncertainty: r.uncertainty,
      decision: r.decision ?? null,
      cost: r.cost ?? null,
    };
  });
  state.budget = data.budget || null;
  state.sort = { key: null, ascending: true };
}

// A header pressed: sorted by its column, the other way round when pressed again.
export function sortPortfolio(state, key) {
  state.sort = { key, ascending: state.sort.key === key ? !state.sort.ascending : true };
  const dir = state.sort.ascending ? 1 : -1;
  const value = (r) => (key === "risk_band" ? BAND_ORDER[r.risk_band] : key === "decision" ? (r.decision === "fund" ? 0 : 1) : r[key]);
  state.portfolio.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    return (va < vb ? -1 : va > vb ? 1 : 0) * dir;
  });
}

// The report's order: by chance, the funded proposals first when a budget was chosen.
export function rankForReport(state) {
  const byChance = (a, b) => b.probability - a.probability;
  const rank = state.budget ? (a, b) => (a.decision === b.decision ? byChance(a, b) : a.decision === "fund" ? -1 : 1) : byChance;
  state.portfolio.sort(rank);
  state.sort = { key: null, ascending: true };
}

// The fields a portfolio can be filtered by: the categories and the catalogue's grouping
// field (a city, a country), each with the values the file has (only those with two or more).
export function filterChoices(state) {
  const group = state.catalogue.group;
  return state.catalogue.context
    .filter((f) => f.type === "category" || f.name === group)
    .map((f) => [f, [...new Set(state.portfolio.map((r) => r.record[f.name]).filter(Boolean))].sort()])
    .filter(([, values]) => values.length > 1);
}

// The rows whose record has every chosen value ({field: value}; an empty value is "All").
export function filtered(rows, chosen) {
  const wanted = Object.entries(chosen).filter(([, v]) => v);
  return rows.filter((r) => wanted.every(([f, v]) => r.record[f] === v));
}

export function countBy(rows, key, order) {
  const counts = new Map(order.map((k) => [k, 0]));
  for (const r of rows) counts.set(r[key], (counts.get(r[key]) || 0) + 1);
  return [...counts.entries()];
}
