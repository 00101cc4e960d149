// The result panel of one assessment (or of a what-if on it): the headline chance, the
// waterfall, the drivers, the blank-answer policy, the mitigation plan; then the scenarios and
// the printed report, which follow what the panel shows.
import { renderWaterfall } from "./charts.js";
import { $, el } from "./dom.js";
import { markChanged } from "./form.js";
import { BAND_TEXT, capitalize, effortUnits, formatValue, humanize, pct, pct1, plural, points, roundedDelta } from "./format.js";
import { renderReport } from "./report.js";
import { renderScenarios } from "./scenarios.js";
import { changedText, factorOf, forgetAssessment, label } from "./state.js";

export function render(state, assessment, whatif) {
  state.shown = { assessment, whatif };
  $("result-placeholder").hidden = true;
  $("result-body").hidden = false;
  $("probability").textContent = pct(assessment.probability);
  const band = $("risk-band");
  band.textContent = BAND_TEXT[assessment.risk_band];
  band.className = `band band-${assessment.risk_band}`;
  $("uncertainty").textContent = `${capitalize(assessment.uncertainty)}.`;
  const box = $("whatif");
  if (whatif) {
    $("whatif-text").textContent =
      `What-if: ${pct(whatif.before.probability)} \u2192 ${pct(whatif.after.probability)} ` +
      `(${points(roundedDelta(whatif))}) with ${changedText(state, whatif.changes)}.`;
    box.hidden = false;
  } else {
    box.hidden = true;
  }
  // narrow screens: the result is below the long form, so keep its headline in sight
  const sticky = $("sticky-score");
  sticky.textContent =
    `${pct(assessment.probability)} \u00b7 ${BAND_TEXT[assessment.risk_band]}` +
    `${whatif ? ` (what-if ${points(roundedDelta(whatif))})` : ""} \u2013 see the result`;
  sticky.hidden = false;
  renderWaterfall(state, assessment.explanation, assessment.probability);
  renderDrivers(state, assessment.explanation);
  renderPolicy(state, assessment.explanation);
  if (state.planFor !== state.assessment) {
    renderPlan(state, state.assessment.plan); // rebuilt only for a new assessment: focus stays put
    state.planFor = state.assessment;
  }
  $("plan-note").hidden = !whatif;
  renderScenarios(state);
  renderReport(state);
}

// Back to "nothing assessed yet" (sign-out, or a new example loaded into the form).
export function forgetResult(state) {
  forgetAssessment(state);
  markChanged({});
  $("result-body").hidden = true;
  $("result-placeholder").hidden = false;
  $("sticky-score").hidden = true;
  $("headline").setAttribute("aria-busy", "false");
}

// The new chance into view (the plan sits far below it), without moving the focus.
export function showHeadline() {
  const box = $("headline").getBoundingClientRect();
  const bar = $("sticky-score").offsetHeight || 0;
  if (box.top < 0 || box.top > window.innerHeight - bar - 40) $("headline").scrollIntoView({ block: "start" });
}

function driverItem(state, d) {
  const f = factorOf(state.catalogue, d.field);
  const value =
    d.value === null ? "unknown" : f ? `${d.value} of ${(f.scale || state.catalogue.scale).max}` : formatValue(d.value);
  const fixed = d.dimension !== "context" && !d.actionable; // a factor no team can change
  const dim = d.dimension === "context" ? "context" : `${label(state, d.dimension)}${fixed ? ", no team can change it" : ""}`;
  const verb = d.points > 0 ? "raises the chance by" : d.points < 0 ? "lowers the chance by" : "hardly moves the chance:";
  return el(
    "li",
    { class: d.points >= 0 ? "raises" : "lowers" },
    el("span", { class: "arrow", "aria-hidden": "true", text: d.points >= 0 ? "\u25B2" : "\u25BC" }),
    el("strong", { text: label(state, d.field) }),
    ` (${dim}) is ${value}: ${verb} ${Math.abs(d.points).toFixed(1)} points (${d.strength})`,
  );
}

// A blank answer never scores better than the catalogue's policy allows: say when it capped.
function renderPolicy(state, explanation) {
  const policy = explanation.unknown_policy;
  const note = $("policy-note");
  note.hidden = !(policy && policy.capped);
  if (!note.hidden) {
    const scored = Object.entries(policy.scored_as).map(([f, v]) => `${label(state, f)} as ${v}`).join(", ");
    note.textContent =
      `Unanswered questions are scored under the policy: ${policy.rule}. ` +
      `Here it lowered the chance (${scored}). Without this rule the chance would be ` +
      `${pct1(policy.learned_probability)}. Answer the questions to get the chance the answers earn.`;
  }
}

function renderDrivers(state, explanation) {
  $("drivers").replaceChildren(...explanation.actionable_drivers.map((d) => driverItem(state, d)));
  $("context-drivers").replaceChildren(...explanation.context_drivers.slice(0, 3).map((d) => driverItem(state, d)));
}

// One set of figures: the summary is the API's own sentence (expected chance, target, interval,
// confidence), each step shows the one chance to expect after it.
function renderPlan(state, plan) {
  const summary = $("plan-summary");
  const steps = $("plan-steps");
  steps.replaceChildren();
  summary.textContent = plan.summary || ""; // a scenario saved before summaries had none
  // many blanks: the questions come before the steps
  const first = $("answer-first");
  if (plan.status === "answer_first") steps.before(first);
  else steps.after(first);
  plan.actions.forEach((a, i) => {
    const theme = state.labels[a.theme] || humanize(a.theme);
    const effort = effortUnits(state.catalogue, (state.catalogue.efforts || {})[a.effort] ?? 0);
    steps.append(
      el(
        "li",
        { class: "step" },
        el("h3", { text: `Raise ${label(state, a.factor)} from ${a.from} to ${a.to}` }),
        el("p", { class: "step-action", text: a.action }),
        el(
          "p",
          { class: "meta" },
          el("span", { class: `theme theme-${a.theme}`, text: theme }),
          ` Effort: ${a.effort} (${effort}) \u00b7 about ${plural(a.months, "month")} \u00b7 `,
          a.with_next
            ? el("strong", { text: "no gain by itself: it counts with the next step" })
            : el("strong", { text: `expected chance after this step: ${pct1(a.expected_probability)}` }),
        ),
        el("button", {
          type: "button",
          class: "secondary try-step",
          "data-step": i,
          text: i === 0 ? "Try this step" : `Try steps 1\u2013${i + 1}`,
        }),
      ),
    );
  });
  const questions = $("questions");
  questions.replaceChildren();
  for (const q of plan.answer_first) {
    questions.append(
      el(
        "li",
        {},
        el("strong", { text: label(state, q.factor) }),
        `: ${q.question} ${q.could ?? `The answer could put the chance anywhere from ${pct1(q.probability_if_lowest)} to ${pct1(q.probability_if_highest)}.`}`,
      ),
    );
  }
  $("answer-first").hidden = plan.answer_first.length === 0;
}
