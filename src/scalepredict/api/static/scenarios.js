// Scenarios: the assessment survives a reload (sessionStorage, like the
// key), named scenarios sit side by side with their chance, effort and changed answers, and an
// assessment with its scenarios travels as a JSON file. Shares app.js's globals.
"use strict";

const SAVED_STORAGE = "scalepredict.assessment";

function saveSession() {
  if (!state.scored || !state.assessment) {
    sessionStorage.removeItem(SAVED_STORAGE);
    return;
  }
  const saved = { proposal: state.scored, form: readProposal(), assessment: state.assessment, own: state.ownScenarios };
  sessionStorage.setItem(SAVED_STORAGE, JSON.stringify(saved));
}

// After sign-in: the assessment of this tab, as it was before the reload.
function restoreSession() {
  const raw = sessionStorage.getItem(SAVED_STORAGE);
  if (!raw) return;
  try {
    const saved = JSON.parse(raw);
    fillForm(saved.form);
    state.scored = saved.proposal;
    state.assessment = saved.assessment;
    state.ownScenarios = saved.own || [];
    render(state.assessment, null);
    onFormChange(); // a what-if on screen before the reload comes back too
  } catch (err) {
    sessionStorage.removeItem(SAVED_STORAGE);
  }
}

// As assessed, then each plan step (cumulative, the plan's expected chance), then the
// planner's own what-ifs (the model's chance for the changed answers).
function scenarios() {
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

function changedText(changes) {
  const list = Object.entries(changes).map(([f, v]) => `${label(f)} ${state.scored[f] ?? "unknown"} \u2192 ${v ?? "unknown"}`);
  return list.length ? list.join("; ") : "none";
}

// A plan step in print: the steps before it, then its own change (the table stays short).
function stepText(i) {
  const a = state.assessment.plan.actions[i];
  const own = `${label(a.factor)} ${a.from} \u2192 ${a.to}`;
  return i === 0 ? own : `steps 1\u2013${i}, then ${own}`;
}

function renderScenarios() {
  const body = $("scenario-table").querySelector("tbody");
  body.replaceChildren(
    ...scenarios().map((s) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: s.name }),
        el("td", { class: "num", text: pct1(s.probability) }),
        el("td", { class: "num", text: s.effort === null ? "\u2013" : String(Number(s.effort.toFixed(1))) }),
        s.step === undefined
          ? el("td", { text: changedText(s.changes) })
          : el("td", {}, el("span", { class: "no-print", text: changedText(s.changes) }), el("span", { class: "print-inline", text: stepText(s.step) })),
      ),
    ),
  );
  saveSession();
}

function saveScenario(event) {
  event.preventDefault();
  const shown = state.shown;
  if (!shown || !shown.whatif) {
    $("scenario-status").textContent = "Change an answer first: a scenario is a what-if.";
    return;
  }
  const name = $("scenario-name").value.trim() || `What-if ${state.ownScenarios.length + 1}`;
  state.ownScenarios.push({ name, probability: shown.assessment.probability, effort: null, changes: { ...shown.whatif.changes } });
  $("scenario-name").value = "";
  $("scenario-status").textContent = `Saved \u201c${name}\u201d.`;
  renderScenarios();
}

function exportAssessment() {
  const body = { format: "scalepredict-assessment", version: 1, proposal: state.scored, scenarios: state.ownScenarios };
  const url = URL.createObjectURL(new Blob([JSON.stringify(body, null, 1)], { type: "application/json" }));
  const a = el("a", { href: url, download: `${state.assessment.initiative_id || "assessment"}.json` });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

async function importAssessment() {
  const file = $("import-file").files[0];
  if (!file) return;
  try {
    const data = JSON.parse(await file.text());
    if (data.format !== "scalepredict-assessment" || !data.proposal) throw new Error("not an assessment file");
    fillForm(data.proposal);
    state.importedScenarios = data.scenarios || [];
    $("import-status").textContent = `Opened ${file.name}.`;
    $("assess-form").requestSubmit();
  } catch (err) {
    $("import-status").textContent = `Could not open ${file.name}: ${err.message}.`;
  }
}

function initScenarios() {
  state.ownScenarios = [];
  $("scenario-form").addEventListener("submit", saveScenario);
  $("export-json").addEventListener("click", exportAssessment);
  $("import-file").addEventListener("change", importAssessment);
  $("download-pdf").addEventListener("click", () => window.print());
}

document.addEventListener("DOMContentLoaded", initScenarios);
