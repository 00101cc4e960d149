// Scenarios: the assessment survives a reload (sessionStorage, like the key), named scenarios
// sit side by side with their chance, effort and changed answers, and an assessment with its
// scenarios travels as a JSON file.
import { $, download, el } from "./dom.js";
import { fillForm, readProposal } from "./form.js";
import { pct1 } from "./format.js";
import { changedText, label, saveScenario, scenarios } from "./state.js";

export const SAVED_STORAGE = "scalepredict.assessment";
const FILE_FORMAT = "scalepredict-assessment";

export function saveSession(state) {
  if (!state.scored || !state.assessment) {
    sessionStorage.removeItem(SAVED_STORAGE);
    return;
  }
  const saved = { proposal: state.scored, form: readProposal(), assessment: state.assessment, own: state.ownScenarios };
  sessionStorage.setItem(SAVED_STORAGE, JSON.stringify(saved));
}

// A plan step in print: the steps before it, then its own change (the table stays short).
function stepText(state, i) {
  const a = state.assessment.plan.actions[i];
  const own = `${label(state, a.factor)} ${a.from} \u2192 ${a.to}`;
  return i === 0 ? own : `steps 1\u2013${i}, then ${own}`;
}

export function renderScenarios(state) {
  const body = $("scenario-table").querySelector("tbody");
  body.replaceChildren(
    ...scenarios(state).map((s) =>
      el(
        "tr",
        {},
        el("th", { scope: "row", text: s.name }),
        el("td", { class: "num", text: pct1(s.probability) }),
        el("td", { class: "num", text: s.effort === null ? "\u2013" : String(Number(s.effort.toFixed(1))) }),
        s.step === undefined
          ? el("td", { text: changedText(state, s.changes) })
          : el("td", {}, el("span", { class: "no-print", text: changedText(state, s.changes) }), el("span", { class: "print-inline", text: stepText(state, s.step) })),
      ),
    ),
  );
  saveSession(state);
}

export function onSaveScenario(state, event) {
  event.preventDefault();
  const saved = saveScenario(state, $("scenario-name").value.trim());
  if (!saved) {
    $("scenario-status").textContent = "Change an answer first: a scenario is a what-if.";
    return;
  }
  $("scenario-name").value = "";
  $("scenario-status").textContent = `Saved \u201c${saved.name}\u201d.`;
  renderScenarios(state);
}

// The file a planner saves and opens again: the assessed proposal and their own scenarios.
export const assessmentFile = (state) => ({ format: FILE_FORMAT, version: 1, proposal: state.scored, scenarios: state.ownScenarios });

// A saved file's contents, or an error saying why it is not one.
export function readAssessmentFile(text) {
  const data = JSON.parse(text);
  if (data.format !== FILE_FORMAT || !data.proposal) throw new Error("not an assessment file");
  return { proposal: data.proposal, scenarios: data.scenarios || [] };
}

export function exportAssessment(state) {
  const text = JSON.stringify(assessmentFile(state), null, 1);
  download(`${state.assessment.initiative_id || "assessment"}.json`, text, "application/json");
}

// The file's proposal fills the form and is assessed; its scenarios come back with the result.
export async function importAssessment(state) {
  const file = $("import-file").files[0];
  if (!file) return;
  try {
    const data = readAssessmentFile(await file.text());
    fillForm(data.proposal);
    state.importedScenarios = data.scenarios;
    $("import-status").textContent = `Opened ${file.name}.`;
    $("assess-form").requestSubmit();
  } catch (err) {
    $("import-status").textContent = `Could not open ${file.name}: ${err.message}.`;
  }
}
