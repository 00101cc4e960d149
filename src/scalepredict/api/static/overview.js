// The portfolio's overview and filters, and a row opened in the assessment view. The overview
// counts the proposals in each risk band and with each dimension as their weakest; the filters
// are the catalogue's category fields and its grouping field; an opened row's answers (read
// from the uploaded file) fill the form and are scored with their plan.
import { assess } from "./assess.js";
import { barChart } from "./charts.js";
import { $, el } from "./dom.js";
import { fillForm } from "./form.js";
import { BAND_ORDER, BAND_TEXT, humanize } from "./format.js";
import { countBy, filterChoices, filtered, label, recordFor } from "./state.js";
import { selectTab } from "./tabs.js";

export function renderOverview(state) {
  const rows = visiblePortfolio(state);
  const bands = countBy(rows, "risk_band", Object.keys(BAND_ORDER));
  const dims = countBy(
    rows,
    "weakest_name",
    state.catalogue.dimensions.map((d) => d.name),
  );
  $("portfolio-overview").replaceChildren(
    barChart("by-band", "Proposals by risk band", bands, (k) => BAND_TEXT[k] || k, (k) => `bar band-bar-${k}`),
    barChart("by-weakest", "Proposals by weakest dimension", dims, (k) => label(state, k), () => "bar"),
  );
}

export function renderFilters(state) {
  const fields = filterChoices(state);
  $("portfolio-filters").replaceChildren(
    ...fields.map(([f, values]) => {
      const select = el(
        "select",
        { id: `filter-${f.name}`, "data-filter": f.name },
        el("option", { value: "", text: "All" }),
        ...values.map((v) => el("option", { value: v, text: humanize(v) })),
      );
      return el("div", { class: "filter" }, el("label", { for: select.id, text: label(state, f.name) }), select);
    }),
  );
  $("portfolio-filters").hidden = fields.length === 0;
  $("portfolio-filter-status").textContent = "";
}

// The rows the filters let through, in the table's order.
export function visiblePortfolio(state) {
  const chosen = Object.fromEntries(
    [...document.querySelectorAll("#portfolio-filters [data-filter]")].map((s) => [s.dataset.filter, s.value]),
  );
  return filtered(state.portfolio, chosen);
}

async function openRow(state, id) {
  const record = recordFor(state, id);
  if (!Object.keys(record).length) return;
  fillForm(record);
  selectTab($("tab-assess"));
  await assess(state, { preventDefault() {} });
  const row = state.portfolio.find((r) => r.initiative_id === id);
  if (row && state.assessment && state.assessment.initiative_id === id) {
    row.plan_summary = $("plan-summary").textContent;
  }
  $("result").scrollIntoView();
}

export function onPortfolioRow(state, event) {
  const tr = event.target.closest("tbody tr");
  if (!tr || (event.type === "keydown" && event.key !== "Enter")) return;
  if (event.type === "keydown" && event.target.tagName === "BUTTON") return; // its click follows
  openRow(state, tr.dataset.id);
}
