// Assess and what-if: the form's answers scored with their plan (POST /score), then each change
// of a factor shown at once as a what-if on the assessed answers (POST /whatif); only the
// latest request may fill the result.
import { api } from "./api.js";
import { $ } from "./dom.js";
import { clearFieldErrors, controlFor, fillForm, markChanged, readProposal, showProblems } from "./form.js";
import { render, showHeadline } from "./result.js";
import { assessed, factorChanges } from "./state.js";

const WHATIF_DELAY_MS = 120; // coalesce quick successive changes into one request

export async function assess(state, event) {
  event.preventDefault();
  clearFieldErrors();
  const proposal = readProposal();
  const button = $("assess-button");
  button.disabled = true;
  $("headline").setAttribute("aria-busy", "true");
  try {
    const data = await api(state, "/score", { method: "POST", json: { proposals: [proposal] } });
    assessed(state, proposal, data.results[0]);
    markChanged({});
    render(state, state.assessment, null);
    // on a narrow screen the result sits below the long form: bring it into view
    if (window.matchMedia("(max-width: 900px)").matches) $("result").scrollIntoView();
  } catch (err) {
    if (err.status !== 401) showProblems(state, $("form-errors"), err, controlFor);
  } finally {
    button.disabled = false;
    $("headline").setAttribute("aria-busy", "false");
  }
}

export function onFormChange(state, event) {
  if (!state.scored || (event && event.target.id === "import-file")) return; // opening a file is no what-if
  clearTimeout(state.whatifTimer);
  state.whatifTimer = setTimeout(() => runWhatIf(state), WHATIF_DELAY_MS);
}

async function runWhatIf(state) {
  if (!state.scored) return; // the assessment was forgotten (an example loaded) meanwhile
  const { changes, contextChanged } = factorChanges(state.catalogue, state.scored, readProposal());
  markChanged(changes);
  if (contextChanged) {
    state.whatifSeq++;
    $("whatif").hidden = false;
    $("whatif-text").textContent =
      "The initiative's context changed: press Assess to score it again (what-if changes factors only).";
    $("headline").setAttribute("aria-busy", "false");
    return;
  }
  const seq = ++state.whatifSeq;
  if (Object.keys(changes).length === 0) {
    render(state, state.assessment, null);
    return;
  }
  $("headline").setAttribute("aria-busy", "true");
  try {
    const data = await api(state, "/whatif", { method: "POST", json: { proposal: state.scored, changes } });
    if (seq === state.whatifSeq) render(state, data.after, data);
  } catch (err) {
    if (seq === state.whatifSeq && err.status !== 401) {
      $("whatif").hidden = false;
      $("whatif-text").textContent = `What-if failed: ${err.message}`;
    }
  } finally {
    if (seq === state.whatifSeq) $("headline").setAttribute("aria-busy", "false");
  }
}

export function undoWhatIf(state) {
  fillForm(state.scored);
  clearTimeout(state.whatifTimer);
  state.whatifSeq++;
  $("headline").setAttribute("aria-busy", "false");
  markChanged({});
  render(state, state.assessment, null);
}

// The plan's first steps up to `index` tried as a what-if, and nothing tried before.
export async function tryPlanUpTo(state, index) {
  const steps = state.assessment.plan.actions.slice(0, index + 1);
  fillForm(state.scored);
  for (const a of steps) $(`f-${a.factor}`).value = String(a.to);
  await runWhatIf(state);
  showHeadline();
}
