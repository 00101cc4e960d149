// The council report: what the printout of one initiative carries besides the result cards.
// It prints what the page shows: with a what-if applied, the what-if's chance and answers,
// marked as such on top with the assessed chance beside them (the plan stays the assessed
// answers' plan, and says so).
import { renderWaterfall } from "./charts.js";
import { $, el } from "./dom.js";
import { BAND_TEXT, humanize, pct, today } from "./format.js";
import { changedText } from "./state.js";

// A factor's answer in words: its level with the rubric's meaning (or the level's label).
export function answerText(f, v, fallbackScale) {
  if (v === null || v === undefined || v === "") return "unknown (not answered)";
  const scale = f.scale || fallbackScale;
  const meaning = f.rubric[v] || (scale.labels || {})[v];
  const said = Array.isArray(meaning) ? meaning[0] : meaning;
  return `${v} of ${scale.max}${said ? ` \u2013 ${said}` : ""}`;
}

export function contextText(f, v) {
  if (v === null || v === undefined || v === "") return "not given";
  if (f.type === "boolean") return v ? "yes" : "no";
  return typeof v === "number" ? v.toLocaleString("en") : f.type === "category" ? humanize(String(v)) : String(v);
}

export function renderReport(state) {
  const { assessment: shownAssessment, whatif } = state.shown;
  const a = state.assessment;
  const cat = state.catalogue;
  const now = whatif ? { ...state.scored, ...whatif.changes } : state.scored;
  // the context on one line; each factor on its own, with its meaning
  $("answers-context").textContent = cat.context
    .map((f) => `${f.label || humanize(f.name)}: ${contextText(f, now[f.name])}`)
    .join(" \u00b7 ");
  const rows = [];
  for (const d of cat.dimensions)
    for (const f of d.factors) {
      const changed = whatif && f.name in whatif.changes;
      const was = changed ? `what-if; assessed: ${answerText(f, state.scored[f.name], cat.scale).split(" \u2013 ")[0]}` : null;
      rows.push([`${f.label} (${d.label})`, answerText(f, now[f.name], cat.scale), was]);
    }
  $("answers-table").querySelector("tbody").replaceChildren(
    ...rows.map(([k, v, was]) =>
      el("tr", { class: was ? "changed-answer" : null }, el("th", { scope: "row", text: k }), el("td", {}, v, was ? el("em", { text: ` (${was})` }) : "")),
    ),
  );
  $("answers-note").textContent = whatif
    ? "With the what-if applied: each changed answer is marked, its assessed level beside it."
    : "As assessed.";

  const field = (name) => cat.context.find((f) => f.name === name);
  const named = (name) => (name && field(name) ? `${field(name).label || humanize(name)}: ${contextText(field(name), now[name])}` : null);
  const dateField = cat.context.find((f) => f.type === "date");
  const m = state.model || {};
  $("report-meta").textContent = [
    a.initiative_id,
    named(cat.group),
    named(cat.stage),
    dateField ? named(dateField.name) : null,
    `chance shown: ${pct(shownAssessment.probability)}, ${BAND_TEXT[shownAssessment.risk_band].toLowerCase()}` +
      ` (${whatif ? "what-if applied" : "as assessed"})`,
    `printed ${today()}`,
  ].filter(Boolean).join(" \u00b7 ");
  const card = m.card || {};
  $("report-model").textContent =
    `Model ${m.name} v${m.version} (${m.source}). ` +
    [card.summary, ...(card.warnings || [])].filter(Boolean).map((t) => `${t}.`).join(" ") +
    ` ${document.querySelector(".foot p").firstChild.textContent.trim().replace(/\s+/g, " ")}`; // the caveat
  const mark = $("report-whatif");
  mark.hidden = !whatif;
  $("headline-mark").hidden = !whatif;
  if (whatif) {
    mark.textContent =
      `What-if applied: this report shows the chance for changed answers, not the assessment. ` +
      `Assessed: ${pct(a.probability)}, ${BAND_TEXT[a.risk_band].toLowerCase()}; with the what-if: ` +
      `${pct(shownAssessment.probability)}, ${BAND_TEXT[shownAssessment.risk_band].toLowerCase()}. ` +
      `Changed: ${changedText(state, whatif.changes)}. The plan below is for the assessed answers.`;
  }
}

// The waterfall drawn for the page's width while printing (a phone's stacked one is taller).
export function redrawForPrint(state, printing) {
  state.printing = printing;
  if (state.shown) renderWaterfall(state, state.shown.assessment.explanation, state.shown.assessment.probability);
}
