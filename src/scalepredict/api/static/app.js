// ScalePredict planner page: native ES modules, no build step. Everything it shows comes from
// the service's own API (/model, /catalogue, /score, /whatif, /portfolio), always with the
// signed-in key as a Bearer token; the key lives in sessionStorage only. This module makes the
// page's one state object, hands it to every handler, and wires the page's events.
import { whenKeyRefused } from "./api.js";
import { assess, onFormChange, tryPlanUpTo, undoWhatIf } from "./assess.js";
import { $ } from "./dom.js";
import { fillForm } from "./form.js";
import { onPortfolioRow } from "./overview.js";
import { downloadTemplate, exportPortfolio, onFilter, onSort, printPortfolio, scorePortfolio, updateTableCue } from "./portfolio.js";
import { redrawForPrint } from "./report.js";
import { forgetResult, render } from "./result.js";
import { exportAssessment, importAssessment, onSaveScenario } from "./scenarios.js";
import { KEY_STORAGE, signIn, signOut } from "./session.js";
import { createState } from "./state.js";
import { onTabKey, selectTab } from "./tabs.js";

function init(state) {
  whenKeyRefused(() => signOut(state, { problem: "Your key is no longer accepted. Sign in again." }));
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("api-key").value.trim();
    if (key) signIn(state, key, false);
  });
  $("sign-out").addEventListener("click", () => signOut(state, { note: "Signed out." }));
  $("assess-form").addEventListener("submit", (e) => assess(state, e));
  $("assess-form").addEventListener("change", (e) => onFormChange(state, e));
  $("load-example").addEventListener("click", () => {
    fillForm(state.catalogue.examples[Number($("example").value) || 0].proposal);
    forgetResult(state); // the result on screen was for other answers
    $("assess-button").focus();
  });
  $("whatif-reset").addEventListener("click", () => undoWhatIf(state));
  $("plan-steps").addEventListener("click", (e) => {
    const button = e.target.closest(".try-step");
    if (button) tryPlanUpTo(state, Number(button.dataset.step));
  });
  $("scenario-form").addEventListener("submit", (e) => onSaveScenario(state, e));
  $("export-json").addEventListener("click", () => exportAssessment(state));
  $("import-file").addEventListener("change", () => importAssessment(state));
  $("download-pdf").addEventListener("click", () => window.print());
  $("portfolio-form").addEventListener("submit", (e) => scorePortfolio(state, e));
  $("portfolio-filters").addEventListener("change", () => onFilter(state));
  const rows = $("portfolio-table").querySelector("tbody");
  rows.addEventListener("click", (e) => onPortfolioRow(state, e));
  rows.addEventListener("keydown", (e) => onPortfolioRow(state, e));
  $("export-csv").addEventListener("click", () => exportPortfolio(state));
  $("download-template").addEventListener("click", () => downloadTemplate(state));
  $("print-portfolio").addEventListener("click", () => printPortfolio(state));
  $("portfolio-table").querySelector("thead").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-sort]");
    if (button) onSort(state, button.dataset.sort);
  });
  for (const t of document.querySelectorAll('[role="tab"]')) {
    t.addEventListener("click", () => selectTab(t));
    t.addEventListener("keydown", onTabKey);
  }
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (state.shown) render(state, state.shown.assessment, state.shown.whatif);
      updateTableCue();
    }, 200);
  });
  window.addEventListener("beforeprint", () => redrawForPrint(state, true));
  window.addEventListener("afterprint", () => redrawForPrint(state, false));
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) signIn(state, saved, true);
}

const state = createState();
// Read-only to the page's own code (every module is handed `state`): this handle lets the
// browser tests and a developer's console read what the page shows, unrounded.
window.scalepredict = Object.freeze({ state });
init(state); // a module runs once the document is parsed
