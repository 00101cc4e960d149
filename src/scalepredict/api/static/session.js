// Signing in and out. The key is checked against /model and /catalogue, kept in this tab's
// sessionStorage only and forgotten on sign-out, with everything the page showed; after a
// reload the tab's assessment comes back as it was.
import { api } from "./api.js";
import { onFormChange } from "./assess.js";
import { $ } from "./dom.js";
import { buildForm, fillForm } from "./form.js";
import { effortUnit } from "./format.js";
import { fillCostFields } from "./portfolio.js";
import { forgetResult, render } from "./result.js";
import { SAVED_STORAGE } from "./scenarios.js";
import { useCatalogue } from "./state.js";

export const KEY_STORAGE = "scalepredict.apiKey";

export async function signIn(state, key, remembered) {
  const error = $("signin-error");
  error.hidden = true;
  $("signin-status").textContent = "";
  try {
    const model = await api(state, "/model", { key });
    const catalogue = await api(state, "/catalogue", { key });
    state.key = key;
    state.model = model;
    sessionStorage.setItem(KEY_STORAGE, key);
    // what serves and how much it knows (the model card): family, projects, AUC with interval
    const card = model.card || {};
    $("model-info").textContent = [
      `Model ${model.name} v${model.version} (${model.source})`,
      card.summary,
      ...(card.warnings || []),
    ].filter(Boolean).join(". ");
    setCatalogue(state, catalogue);
    $("signin").hidden = true;
    $("app").hidden = false;
    $("session").hidden = false;
    $("api-key").value = "";
    if (remembered) restoreSession(state);
    else $("main").focus();
  } catch (err) {
    sessionStorage.removeItem(KEY_STORAGE);
    error.textContent =
      err.status === 401 || err.status === 403
        ? "That API key was not accepted. Check it and try again."
        : `Could not sign in: ${err.message}`;
    error.hidden = false;
    $("api-key").focus();
  }
}

// `problem` is an error to show; `note` a neutral status ("Signed out.").
export function signOut(state, { problem = "", note = "" } = {}) {
  state.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  clearTimeout(state.whatifTimer);
  state.whatifSeq++; // answers still in flight belong to the old session
  state.portfolioSeq++;
  forgetResult(state);
  sessionStorage.removeItem(SAVED_STORAGE);
  if (state.catalogue) fillForm({});
  state.portfolio = [];
  state.budget = null;
  $("portfolio-result").hidden = true;
  $("portfolio-errors").hidden = true;
  $("csv-file").value = "";
  $("app").hidden = true;
  $("session").hidden = true;
  $("signin").hidden = false;
  const error = $("signin-error");
  error.textContent = problem;
  error.hidden = !problem;
  $("signin-status").textContent = note;
  $("api-key").focus();
}

// The form and the portfolio's choices, generated from the served catalogue once per page.
function setCatalogue(state, catalogue) {
  if (state.catalogue) return;
  useCatalogue(state, catalogue);
  // the served catalogue names the assessment (the built-in one: smart-city initiatives)
  if (catalogue.title && catalogue.name !== "smart-city") $("tagline").textContent = `${catalogue.title}: will it succeed, why, and what to do about it.`;
  buildForm(state, catalogue);
  fillCostFields(catalogue);
  $("scenario-effort").textContent = `Effort (${effortUnit(catalogue).many})`;
}

// After sign-in: the assessment of this tab, as it was before the reload.
function restoreSession(state) {
  const raw = sessionStorage.getItem(SAVED_STORAGE);
  if (!raw) return;
  try {
    const saved = JSON.parse(raw);
    fillForm(saved.form);
    state.scored = saved.proposal;
    state.assessment = saved.assessment;
    state.ownScenarios = saved.own || [];
    render(state, state.assessment, null);
    onFormChange(state); // a what-if on screen before the reload comes back too
  } catch (err) {
    sessionStorage.removeItem(SAVED_STORAGE);
  }
}
