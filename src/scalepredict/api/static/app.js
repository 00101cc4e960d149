// ScalePredict planner page: plain JS, no build step. Everything it shows comes from the
// service's own API (/model, /catalogue, /score, /whatif, /portfolio), always with the
// signed-in key as a Bearer token; the key lives in sessionStorage only.
"use strict";

const KEY_STORAGE = "scalepredict.apiKey";
const WHATIF_DELAY_MS = 120; // coalesce quick successive changes into one request
const SVG_NS = "http://www.w3.org/2000/svg";

const state = {
  key: null,
  catalogue: null,
  labels: {}, // field or dimension name -> label for people
  factorDimension: {},
  scored: null, // the proposal last assessed, exactly as sent
  assessment: null, // its assessment (with plan)
  shown: null, // what the result panel shows now: { assessment, whatif }
  whatifSeq: 0,
  portfolioSeq: 0,
  planFor: null, // the assessment whose plan is on screen
  whatifTimer: null,
  portfolio: [],
  sort: { key: null, ascending: true },
};

const $ = (id) => document.getElementById(id);

function el(tag, attrs = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) {
    if (v === null || v === undefined || v === false) continue;
    if (k === "text") node.textContent = v;
    else if (k === "class") node.className = v;
    else node.setAttribute(k, v === true ? "" : String(v));
  }
  for (const c of children) node.append(c);
  return node;
}

function svg(tag, attrs = {}, text = null) {
  const node = document.createElementNS(SVG_NS, tag);
  for (const [k, v] of Object.entries(attrs)) node.setAttribute(k, String(v));
  if (text !== null) node.textContent = text;
  return node;
}

const pct = (p) => `${Math.round(p * 100)}%`;
// a count with its noun in agreement: "1 month", "2 months", "+1 point"
const plural = (n, one, many = `${one}s`) => `${n} ${Math.abs(n) === 1 ? one : many}`;
const points = (d) => `${d >= 0 ? "+" : "\u2212"}${plural(Math.abs(Math.round(d * 100)), "point")}`;
// Effort in the catalogue's own unit (person-months unless it says otherwise): each step
// costs its effort level's cost (low 1, medium 2, high 4 in the built-in catalogue).
const effortUnit = () => (state.catalogue && state.catalogue.effort_unit) || { one: "person-month", many: "person-months" };
const effortUnits = (n) => plural(Number(n.toFixed(1)), effortUnit().one, effortUnit().many);
// the change between the two percentages shown, so the sentence adds up on screen
const roundedDelta = (w) => (Math.round(w.after.probability * 100) - Math.round(w.before.probability * 100)) / 100;
const humanize = (name) => name.replaceAll("_", " ").replace(/^./, (c) => c.toUpperCase());
const label = (name) => state.labels[name] || humanize(name);
const BAND_TEXT = {
  high: "High risk",
  elevated: "Elevated risk",
  moderate: "Moderate risk",
  low: "Low risk",
};

// --- API -------------------------------------------------------------------------------------
class ApiError extends Error {
  constructor(status, body) {
    super((body && body.error) || `HTTP ${status}`);
    this.status = status;
    this.body = body || {};
  }
}

async function api(path, { method = "GET", json, body, contentType, key } = {}) {
  if (!key && !state.key) throw new ApiError(0, { error: "signed out" }); // e.g. a late timer
  const headers = { Authorization: `Bearer ${key || state.key}`, Accept: "application/json" };
  if (json !== undefined) {
    headers["Content-Type"] = "application/json";
    body = JSON.stringify(json);
  } else if (contentType) {
    headers["Content-Type"] = contentType;
  }
  let response;
  try {
    response = await fetch(path, { method, headers, body, cache: "no-store" });
  } catch (err) {
    throw new ApiError(0, { error: "cannot reach the ScalePredict service; is it running?" });
  }
  let data = null;
  try {
    data = await response.json();
  } catch (err) {
    data = { error: `unexpected response (HTTP ${response.status})` };
  }
  if (!response.ok) {
    if (response.status === 401 && !key) {
      signOut({ problem: "Your key is no longer accepted. Sign in again." });
    }
    throw new ApiError(response.status, data);
  }
  return data;
}

// --- sign in ---------------------------------------------------------------------------------
async function signIn(key, remembered) {
  const error = $("signin-error");
  error.hidden = true;
  $("signin-status").textContent = "";
  try {
    const model = await api("/model", { key });
    const catalogue = await api("/catalogue", { key });
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
    setCatalogue(catalogue);
    $("signin").hidden = true;
    $("app").hidden = false;
    $("session").hidden = false;
    $("api-key").value = "";
    if (remembered) restoreSession();
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
function signOut({ problem = "", note = "" } = {}) {
  state.key = null;
  sessionStorage.removeItem(KEY_STORAGE);
  clearTimeout(state.whatifTimer);
  state.whatifSeq++; // answers still in flight belong to the old session
  state.portfolioSeq++;
  forgetResult();
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

// Back to "nothing assessed yet" (sign-out, or a new example loaded into the form).
function forgetResult() {
  state.scored = null;
  state.assessment = null;
  state.shown = null;
  state.planFor = null;
  state.ownScenarios = [];
  markChanged({});
  $("result-body").hidden = true;
  $("result-placeholder").hidden = false;
  $("sticky-score").hidden = true;
  $("headline").setAttribute("aria-busy", "false");
}

// --- the form, generated from the catalogue ----------------------------------------------
function setCatalogue(catalogue) {
  if (state.catalogue) return; // built once per page
  state.catalogue = catalogue;
  // the served catalogue names the assessment (the built-in one: smart-city initiatives)
  if (catalogue.title && catalogue.name !== "smart-city") $("tagline").textContent = `${catalogue.title}: will it succeed, why, and what to do about it.`;
  for (const d of catalogue.dimensions) {
    state.labels[d.name] = d.label;
    for (const f of d.factors) {
      state.labels[f.name] = f.label;
      state.factorDimension[f.name] = d.name;
    }
  }
  state.labels.context = "Context";
  for (const f of catalogue.context) state.labels[f.name] = f.label || humanize(f.name);
  for (const t of Object.entries(catalogue.themes)) state.labels[t[0]] = t[1].label;

  const context = $("context-fields");
  for (const f of catalogue.context) context.append(contextInput(f));
  const dims = $("dimension-fields");
  for (const d of catalogue.dimensions) {
    const fs = el("fieldset", { class: "dimension" }, el("legend", { text: d.label }));
    fs.append(el("p", { class: "muted", text: d.description }));
    for (const f of d.factors) fs.append(factorInput(f, catalogue.scale));
    dims.append(fs);
  }
  fillCostFields(catalogue);
  $("scenario-effort").textContent = `Effort (${effortUnit().many})`;
  const examples = $("example");
  catalogue.examples.forEach((e, i) => examples.append(el("option", { value: i, text: e.title })));
}

function fieldWrap(name, labelText, hint, control) {
  const hintId = `hint-${name}`;
  control.setAttribute("aria-describedby", `${hintId} err-${name}`);
  return el(
    "div",
    { class: "field", id: `wrap-${name}` },
    el("label", { for: control.id, text: labelText }),
    el("p", { class: "hint", id: hintId, text: hint }),
    control,
    el("p", { class: "field-error", id: `err-${name}`, hidden: true }),
  );
}

function contextInput(f) {
  const id = `c-${f.name}`;
  let control;
  if (f.type === "category" && f.categories && f.categories.length) {
    control = el("select", { id, name: f.name });
    control.append(el("option", { value: "", text: "Choose\u2026" }));
    for (const c of f.categories) control.append(el("option", { value: c, text: humanize(c) }));
  } else if (f.type === "boolean") {
    control = el("select", { id, name: f.name });
    control.append(el("option", { value: "", text: "Choose\u2026" }));
    control.append(el("option", { value: "true", text: "Yes" }), el("option", { value: "false", text: "No" }));
  } else {
    const type = { date: "date", integer: "number", number: "number" }[f.type] || "text";
    control = el("input", {
      id,
      name: f.name,
      type,
      min: f.min,
      max: f.max,
      step: f.type === "integer" ? 1 : f.type === "number" ? "any" : null,
      inputmode: f.type === "integer" ? "numeric" : f.type === "number" ? "decimal" : null,
      autocomplete: "off",
    });
  }
  control.dataset.kind = f.type;
  control.dataset.context = "1";
  if (!f.nullable) control.required = true;
  // a date box shows the browser's own order (mm/dd/yyyy in the US), not the file's
  const hint = f.type === "date" ? `${f.description || ""} ${dateBoxHint()}`.trim() : f.description;
  return fieldWrap(f.name, `${f.label || humanize(f.name)}${f.nullable ? " (optional)" : ""}`, hint, control);
}

// How the browser's date box reads, from its locale: "mm/dd/yyyy", "dd.mm.yyyy", ...
function dateBoxHint() {
  const parts = new Intl.DateTimeFormat(navigator.language, { year: "numeric", month: "2-digit", day: "2-digit" })
    .formatToParts(new Date(2001, 10, 22));
  const order = parts.map((p) => ({ year: "yyyy", month: "mm", day: "dd" })[p.type] || p.value).join("");
  return `In this box type it as ${order}, or pick it in the calendar; it is sent as year-month-day.`;
}

// Each factor has its own scale (a catalogue may mix 1-6 ratings with a 1-4 one); a level
// shows its rubric text, else its label (for example "Moderately Satisfactory").
function factorInput(f, fallback) {
  const scale = f.scale || fallback;
  const labels = scale.labels || {};
  const meaning = (s) => f.rubric[s] || labels[s] || "";
  const id = `f-${f.name}`;
  const control = el("select", { id, name: f.name });
  control.dataset.factor = "1";
  control.append(el("option", { value: "", text: "Unknown" }));
  for (let s = scale.min; s <= scale.max; s++) {
    const text = meaning(s);
    control.append(el("option", { value: s, text: text ? `${s} \u2013 ${text}` : String(s) }));
  }
  const wrap = fieldWrap(f.name, f.label, f.question || label(f.dimension), control);
  wrap.classList.add("factor");
  if (Object.keys(f.rubric).length || Object.keys(labels).length) {
    const rubric = el("dl", { class: "rubric" });
    for (let s = scale.min; s <= scale.max; s++) {
      rubric.append(el("dt", { text: `Score ${s}` }), el("dd", { text: meaning(s) }));
    }
    const summary = `What do scores ${scale.min}\u2013${scale.max} mean?`;
    wrap.append(el("details", {}, el("summary", { text: summary }), rubric));
  }
  return wrap;
}

function controls() {
  return [...$("assess-form").querySelectorAll("[data-context], [data-factor]")];
}

function readProposal() {
  const proposal = {};
  for (const c of controls()) {
    const v = c.value.trim();
    if (v === "") proposal[c.name] = null;
    else if (c.dataset.factor || c.dataset.kind === "integer" || c.dataset.kind === "number")
      proposal[c.name] = Number(v);
    else if (c.dataset.kind === "boolean") proposal[c.name] = v === "true";
    else proposal[c.name] = v;
  }
  return proposal;
}

function fillForm(proposal) {
  for (const c of controls()) {
    const v = proposal[c.name];
    c.value = v === null || v === undefined ? "" : optionFor(c, String(v));
  }
  clearFieldErrors();
}

// A cell as a file gives it, read as the form's option: "2.0" (pandas writes whole numbers of a
// column with blanks so) is 2, a level's label is its level, a category matches in any case;
// what matches no option (an unknown token) is left unanswered, as the server reads it.
function optionFor(control, text) {
  if (control.tagName !== "SELECT") return text;
  const options = [...control.options].filter((o) => o.value !== "");
  const wanted = text.trim();
  const folded = wanted.toLowerCase();
  const number = wanted !== "" && Number.isFinite(Number(wanted)) ? Number(wanted) : null;
  if (control.dataset.kind === "boolean") {
    if (["true", "yes", "y", "t", "1", "1.0"].includes(folded)) return "true";
    if (["false", "no", "n", "f", "0", "0.0"].includes(folded)) return "false";
  }
  const hit =
    options.find((o) => o.value === wanted) ||
    options.find((o) => number !== null && Number(o.value) === number && o.value.trim() !== "") ||
    options.find((o) => o.value.toLowerCase() === folded) ||
    options.find((o) => {
      const label = o.text.split(" \u2013 ").slice(1).join(" \u2013 ").toLowerCase();
      return label !== "" && label === folded;
    });
  return hit ? hit.value : "";
}

function clearFieldErrors() {
  $("form-errors").hidden = true;
  for (const e of document.querySelectorAll(".field-error")) e.hidden = true;
  for (const c of controls()) c.removeAttribute("aria-invalid");
}

// `resolve` maps a field name to its form control (to mark it invalid), or null.
function showProblems(box, err, resolve = () => null) {
  box.replaceChildren(el("p", { text: capitalize(err.message) }));
  const problems = (err.body || {}).problems || [];
  if (problems.length) {
    const list = el("ul");
    for (const p of problems.slice(0, 50)) {
      const field = p.column || String(p.path || "").split(".").pop();
      const where = p.row ? `Row ${p.row}${p.initiative_id ? ` (${p.initiative_id})` : ""}, ${field}` : label(field);
      const got = p.value !== null && p.value !== undefined && p.value !== "" ? ` (got \u201c${p.value}\u201d)` : "";
      const text = `${where}: ${p.rule}${got}`;
      const control = resolve(field);
      list.append(el("li", {}, control ? el("a", { href: `#${control.id}`, text }) : text));
      if (control) {
        control.setAttribute("aria-invalid", "true");
        const msg = $(`err-${field}`);
        msg.textContent = p.rule;
        msg.hidden = false;
      }
    }
    if (problems.length > 50) list.append(el("li", { text: `\u2026 and ${problems.length - 50} more` }));
    box.append(list);
  }
  box.hidden = false;
  box.focus();
}

const capitalize = (s) => s.charAt(0).toUpperCase() + s.slice(1);

// --- assess and what-if --------------------------------------------------------------------
async function assess(event) {
  event.preventDefault();
  clearFieldErrors();
  const proposal = readProposal();
  const button = $("assess-button");
  button.disabled = true;
  $("headline").setAttribute("aria-busy", "true");
  try {
    const data = await api("/score", { method: "POST", json: { proposals: [proposal] } });
    state.scored = proposal;
    state.assessment = data.results[0];
    state.ownScenarios = state.importedScenarios || [];
    state.importedScenarios = null;
    state.whatifSeq++; // any what-if still in flight is about the old proposal
    markChanged({});
    render(state.assessment, null);
    // on a narrow screen the result sits below the long form: bring it into view
    if (window.matchMedia("(max-width: 900px)").matches) $("result").scrollIntoView();
  } catch (err) {
    const control = (name) => document.getElementById(`f-${name}`) || document.getElementById(`c-${name}`);
    if (err.status !== 401) showProblems($("form-errors"), err, control);
  } finally {
    button.disabled = false;
    $("headline").setAttribute("aria-busy", "false");
  }
}

function factorChanges() {
  const now = readProposal();
  const changes = {};
  for (const d of state.catalogue.dimensions)
    for (const f of d.factors) if (now[f.name] !== state.scored[f.name]) changes[f.name] = now[f.name];
  const contextChanged = state.catalogue.context.some((f) => now[f.name] !== state.scored[f.name]);
  return { changes, contextChanged };
}

function onFormChange(event) {
  if (!state.scored || (event && event.target.id === "import-file")) return; // opening a file is no what-if
  clearTimeout(state.whatifTimer);
  state.whatifTimer = setTimeout(runWhatIf, WHATIF_DELAY_MS);
}

async function runWhatIf() {
  const { changes, contextChanged } = factorChanges();
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
    render(state.assessment, null);
    return;
  }
  $("headline").setAttribute("aria-busy", "true");
  try {
    const data = await api("/whatif", { method: "POST", json: { proposal: state.scored, changes } });
    if (seq === state.whatifSeq) render(data.after, data);
  } catch (err) {
    if (seq === state.whatifSeq && err.status !== 401) {
      $("whatif").hidden = false;
      $("whatif-text").textContent = `What-if failed: ${err.message}`;
    }
  } finally {
    if (seq === state.whatifSeq) $("headline").setAttribute("aria-busy", "false");
  }
}

function markChanged(changes) {
  for (const c of controls()) c.classList.toggle("changed", c.name in changes);
}

function undoWhatIf() {
  fillForm(state.scored);
  clearTimeout(state.whatifTimer);
  state.whatifSeq++;
  $("headline").setAttribute("aria-busy", "false");
  markChanged({});
  render(state.assessment, null);
}

async function tryPlanUpTo(index) {
  const steps = state.assessment.plan.actions.slice(0, index + 1);
  fillForm(state.scored); // the steps, and nothing tried before
  for (const a of steps) $(`f-${a.factor}`).value = String(a.to);
  await runWhatIf();
  showHeadline();
}

// The new chance into view (the plan sits far below it), without moving the focus.
function showHeadline() {
  const box = $("headline").getBoundingClientRect();
  const bar = $("sticky-score").offsetHeight || 0;
  if (box.top < 0 || box.top > window.innerHeight - bar - 40) $("headline").scrollIntoView({ block: "start" });
}

// --- rendering -------------------------------------------------------------------------------
function render(assessment, whatif) {
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
    const list = Object.entries(whatif.changes)
      .map(([f, v]) => `${label(f)} ${state.scored[f] ?? "unknown"} \u2192 ${v ?? "unknown"}`)
      .join("; ");
    $("whatif-text").textContent =
      `What-if: ${pct(whatif.before.probability)} \u2192 ${pct(whatif.after.probability)} ` +
      `(${points(roundedDelta(whatif))}) with ${list}.`;
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
  renderWaterfall(assessment.explanation, assessment.probability);
  renderDrivers(assessment.explanation);
  renderPolicy(assessment.explanation);
  if (state.planFor !== state.assessment) {
    renderPlan(state.assessment.plan); // rebuilt only for a new assessment: focus stays put
    state.planFor = state.assessment;
  }
  $("plan-note").hidden = !whatif;
  renderScenarios();
  renderReport();
}

const pct1 = (p) => `${(p * 100).toFixed(1)}%`;
const pts1 = (v) => `${v > 0 ? "+" : v < 0 ? "\u2212" : "\u00b1"}${Math.abs(v).toFixed(1)}`;

// Each value rounded to 0.1 so that the rounded values add up exactly to `total` rounded to
// 0.1 (largest remainder): the waterfall's numbers add up on screen.
function roundToTotal(values, total) {
  const scaled = values.map((v) => v * 10);
  const out = scaled.map(Math.floor);
  let left = Math.round(total * 10) - out.reduce((a, b) => a + b, 0);
  const order = scaled.map((v, i) => [v - out[i], i]).sort((a, b) => b[0] - a[0]);
  for (let k = 0; left > 0 && k < order.length; k++, left--) out[order[k][1]] += 1;
  for (let k = order.length - 1; left < 0 && k >= 0; k--, left++) out[order[k][1]] -= 1;
  return out.map((v) => v / 10);
}

// The waterfall in percentage points: from the typical initiative's chance, each dimension's
// share, then the context (which no plan changes), to this initiative's chance.
function renderWaterfall(explanation, probability) {
  const host = $("waterfall");
  const names = [...state.catalogue.dimensions.map((d) => d.name), "context"];
  const typical = Math.round(explanation.typical_probability * 1000) / 10;
  const end = Math.round(probability * 1000) / 10;
  const shown = roundToTotal(names.map((n) => explanation.dimension_points[n]), end - typical);
  const rows = names.map((n, i) => [n, shown[i]]);
  $("typical-chance").textContent = `${typical.toFixed(1)}%`;
  // printed: the width of an A4 page's text, whatever the screen (report.js sets `printing`)
  const width = state.printing ? 680 : Math.max(260, Math.min(720, host.clientWidth || 600));
  // narrow screens: each label on its own line above its bar, so no label is cut off
  const stacked = width < 520;
  const labelW = stacked ? 0 : 190;
  const valueW = 84;
  const rowH = stacked ? 42 : 30;
  const barY = stacked ? 20 : 6; // bar top within its row
  const height = rowH * (rows.length + 2) + 8;
  let lo = Math.min(typical, end);
  let hi = Math.max(typical, end);
  let run = typical;
  for (const [, v] of rows) {
    run += v;
    lo = Math.min(lo, run);
    hi = Math.max(hi, run);
  }
  const pad = (hi - lo) * 0.05 || 1;
  lo = Math.max(0, lo - pad);
  hi = Math.min(100, hi + pad);
  const x0 = stacked ? 2 : labelW + 8;
  const x1 = width - valueW;
  const x = (v) => x0 + ((v - lo) / (hi - lo || 1)) * (x1 - x0);
  const chart = svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    width,
    height,
    role: "img",
    "aria-labelledby": "waterfall-svg-title",
    class: "waterfall",
  });
  chart.append(
    svg("title", { id: "waterfall-svg-title" }, "How each dimension moves the chance, in percentage points"),
  );
  const name = (y, text, cls = "") =>
    stacked
      ? svg("text", { x: 0, y: y + 14, class: cls }, text)
      : svg("text", { x: labelW, y: y + barY + 13, "text-anchor": "end", class: cls }, text);
  const value = (y, text, cls = "") =>
    svg("text", { x: width - 2, y: y + barY + 13, "text-anchor": "end", class: cls }, text);
  const mark = (y, at) => svg("rect", { x: x(at) - 2, y: y + barY, width: 4, height: 18, class: "mark" });
  let y = 4;
  chart.append(
    name(y, "Typical initiative", "strong"),
    mark(y, typical),
    value(y, `${typical.toFixed(1)}%`, "strong"),
  );
  y += rowH;
  run = typical;
  const described = [];
  for (const [field, v] of rows) {
    const a = x(run);
    const b = x(run + v);
    const bar = { x: Math.min(a, b), y: y + barY, width: Math.max(2, Math.abs(b - a)), height: 18 };
    const text = field === "context" ? "Context (cannot change)" : label(field);
    chart.append(
      name(y, text, field === "context" ? "context-row" : ""),
      svg("rect", { ...bar, class: `${v >= 0 ? "up" : "down"}${field === "context" ? " context" : ""}` }),
      value(y, `${v > 0 ? "\u25B2" : v < 0 ? "\u25BC" : ""} ${pts1(v)} pts`),
    );
    described.push(`${text} ${v >= 0 ? "adds" : "takes away"} ${Math.abs(v).toFixed(1)} points`);
    run += v;
    y += rowH;
  }
  chart.append(name(y, "This initiative", "strong"), mark(y, end), value(y, `${end.toFixed(1)}%`, "strong"));
  const note = el("p", {
    class: "visually-hidden",
    text: `From a typical initiative's ${typical.toFixed(1)}%: ${described.join("; ")}; this initiative: ${end.toFixed(1)}%.`,
  });
  host.replaceChildren(chart, note);
}

function driverItem(d) {
  const f = factorOf(d.field);
  const value =
    d.value === null ? "unknown" : f ? `${d.value} of ${(f.scale || state.catalogue.scale).max}` : formatValue(d.value);
  const fixed = d.dimension !== "context" && !d.actionable; // a factor no team can change
  const dim = d.dimension === "context" ? "context" : `${label(d.dimension)}${fixed ? ", no team can change it" : ""}`;
  const verb = d.points > 0 ? "raises the chance by" : d.points < 0 ? "lowers the chance by" : "hardly moves the chance:";
  return el(
    "li",
    { class: d.points >= 0 ? "raises" : "lowers" },
    el("span", { class: "arrow", "aria-hidden": "true", text: d.points >= 0 ? "\u25B2" : "\u25BC" }),
    el("strong", { text: label(d.field) }),
    ` (${dim}) is ${value}: ${verb} ${Math.abs(d.points).toFixed(1)} points (${d.strength})`,
  );
}

function factorOf(name) {
  for (const d of state.catalogue.dimensions) for (const f of d.factors) if (f.name === name) return f;
  return null;
}

// A blank answer never scores better than the catalogue's policy allows: say when it capped.
function renderPolicy(explanation) {
  const policy = explanation.unknown_policy;
  const note = $("policy-note");
  note.hidden = !(policy && policy.capped);
  if (!note.hidden) {
    const scored = Object.entries(policy.scored_as).map(([f, v]) => `${label(f)} as ${v}`).join(", ");
    note.textContent =
      `Unanswered questions are scored under the policy: ${policy.rule}. ` +
      `Here it lowered the chance (${scored}). Without this rule the chance would be ` +
      `${pct1(policy.learned_probability)}. Answer the questions to get the chance the answers earn.`;
  }
}

function renderDrivers(explanation) {
  $("drivers").replaceChildren(...explanation.actionable_drivers.map(driverItem));
  $("context-drivers").replaceChildren(...explanation.context_drivers.slice(0, 3).map(driverItem));
}

function formatValue(v) {
  if (typeof v === "number") return v.toLocaleString("en");
  return humanize(String(v));
}

// One set of figures: the summary is the API's own sentence (expected chance, target, interval,
// confidence), each step shows the one chance to expect after it.
function renderPlan(plan) {
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
    steps.append(
      el(
        "li",
        { class: "step" },
        el("h3", { text: `Raise ${label(a.factor)} from ${a.from} to ${a.to}` }),
        el("p", { class: "step-action", text: a.action }),
        el(
          "p",
          { class: "meta" },
          el("span", { class: `theme theme-${a.theme}`, text: theme }),
          ` Effort: ${a.effort} (${effortUnits((state.catalogue.efforts || {})[a.effort] ?? 0)}) \u00b7 about ${plural(a.months, "month")} \u00b7 `,
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
        el("strong", { text: label(q.factor) }),
        `: ${q.question} ${q.could ?? `The answer could put the chance anywhere from ${pct1(q.probability_if_lowest)} to ${pct1(q.probability_if_highest)}.`}`,
      ),
    );
  }
  $("answer-first").hidden = plan.answer_first.length === 0;
}

// --- portfolio ---------------------------------------------------------------------------------
// The dimension taking the most away, in percentage points of the chance (as the waterfall).
function weakestDimension(explanation) {
  let best = null;
  for (const d of state.catalogue.dimensions) {
    const v = explanation.dimension_points[d.name];
    if (best === null || v < best.value) best = { name: d.name, value: v };
  }
  return best;
}

async function scorePortfolio(event) {
  event.preventDefault();
  const file = $("csv-file").files[0];
  const errors = $("portfolio-errors");
  const button = $("portfolio-button");
  errors.hidden = true;
  const seq = ++state.portfolioSeq; // only the latest upload may fill the table
  button.disabled = true;
  $("panel-portfolio").setAttribute("aria-busy", "true");
  try {
    if (!file) throw new ApiError(0, { error: "choose a CSV file first" });
    const choice = budgetRequest();
    let body;
    try {
      body = await file.arrayBuffer();
    } catch (err) {
      throw new ApiError(0, { error: `cannot read ${file.name}: choose the file again` });
    }
    const data = await scoreInParts(body, file.name, choice, seq);
    if (!data || seq !== state.portfolioSeq) return;
    rememberRows(body);
    state.portfolio = data.results.map((r) => {
      const w = weakestDimension(r.explanation);
      return {
        initiative_id: r.initiative_id,
        record: recordFor(r.initiative_id),
        probability: r.probability,
        risk_band: r.risk_band,
        weakest: label(w.name),
        weakest_name: w.name,
        weakest_points: w.value,
        uncertainty: r.uncertainty,
        decision: r.decision ?? null,
        cost: r.cost ?? null,
      };
    });
    state.budget = data.budget || null;
    state.sort = { key: null, ascending: true };
    renderFilters();
    renderPortfolio();
    renderOverview();
    $("portfolio-summary").textContent =
      `${state.portfolio.length} proposals from ${file.name} scored with model v${data.model.version}.`;
    $("portfolio-result").hidden = false;
    renderBudget();
    updateTableCue();
  } catch (err) {
    if (seq !== state.portfolioSeq) return;
    $("portfolio-result").hidden = true;
    if (err.status !== 401) showProblems(errors, err);
  } finally {
    if (seq === state.portfolioSeq) {
      button.disabled = false;
      $("panel-portfolio").setAttribute("aria-busy", "false");
      $("portfolio-progress").hidden = true;
    }
  }
}

const BAND_ORDER = { high: 0, elevated: 1, moderate: 2, low: 3 };

function sortPortfolio(key) {
  state.sort = { key, ascending: state.sort.key === key ? !state.sort.ascending : true };
  const dir = state.sort.ascending ? 1 : -1;
  const value = (r) => (key === "risk_band" ? BAND_ORDER[r.risk_band] : key === "decision" ? (r.decision === "fund" ? 0 : 1) : r[key]);
  state.portfolio.sort((a, b) => {
    const va = value(a);
    const vb = value(b);
    return (va < vb ? -1 : va > vb ? 1 : 0) * dir;
  });
  renderPortfolio();
}

function renderPortfolio() {
  for (const th of $("portfolio-table").querySelectorAll("th")) {
    const button = th.querySelector("button");
    if (!button) continue;
    const active = button.dataset.sort === state.sort.key;
    th.setAttribute("aria-sort", active ? (state.sort.ascending ? "ascending" : "descending") : "none");
  }
  const body = $("portfolio-table").querySelector("tbody");
  body.replaceChildren(
    ...visiblePortfolio().map((r) =>
      el(
        "tr",
        { "data-id": r.initiative_id, class: "openable" },
        el("th", { scope: "row" }, el("button", { type: "button", class: "link", title: "Open its explanation and plan", text: r.initiative_id })),
        el("td", { class: "num", "data-probability": r.probability, text: r.probability < 0.01 ? "<1%" : pct(r.probability) }),
        el("td", {}, el("span", { class: `band band-${r.risk_band}`, text: BAND_TEXT[r.risk_band] })),
        el("td", { text: `${r.weakest} (${pts1(r.weakest_points)} points)` }),
        el("td", { text: r.uncertainty }),
        ...(state.budget
          ? [
              el("td", { class: `decision decision-${r.decision === "fund" ? "fund" : "no"}`, text: r.decision === "fund" ? "Fund" : "Do not fund" }),
              el("td", { class: "num", text: money(r.cost) }),
            ]
          : []),
      ),
    ),
  );
  for (const th of $("portfolio-table").querySelectorAll(".budget-col")) th.hidden = !state.budget;
}

function csvCell(v) {
  if (typeof v === "number") return String(v);
  let s = String(v ?? "");
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`; // a spreadsheet must not run it as a formula
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

function download(name, text) {
  const url = URL.createObjectURL(new Blob([text], { type: "text/csv" }));
  const a = el("a", { href: url, download: name });
  document.body.append(a);
  a.click();
  a.remove();
  setTimeout(() => URL.revokeObjectURL(url), 1000);
}

function exportPortfolio() {
  const header = ["initiative_id", "probability", "risk_band", "weakest_dimension", "weakest_points", "uncertainty", "plan_summary"];
  const budget = state.budget ? ["decision", "cost"] : [];
  const lines = visiblePortfolio().map((r) =>
    [r.initiative_id, r.probability, r.risk_band, r.weakest, Number(r.weakest_points.toFixed(1)), r.uncertainty, r.plan_summary || ""]
      .concat(state.budget ? [r.decision, r.cost] : [])
      .map(csvCell)
      .join(","),
  );
  header.push(...budget);
  download("scalepredict-portfolio.csv", [header.join(","), ...lines].join("\n") + "\n");
}

function downloadTemplate() {
  const names = [
    ...state.catalogue.context.map((f) => f.name),
    ...state.catalogue.dimensions.flatMap((d) => d.factors.map((f) => f.name)),
  ];
  download("scalepredict-template.csv", names.join(",") + "\n");
}

// --- tabs ------------------------------------------------------------------------------------
function selectTab(tab) {
  for (const t of document.querySelectorAll('[role="tab"]')) {
    const on = t === tab;
    t.setAttribute("aria-selected", String(on));
    t.tabIndex = on ? 0 : -1;
    $(t.getAttribute("aria-controls")).hidden = !on;
  }
  tab.focus();
}

function onTabKey(event) {
  const tabs = [...document.querySelectorAll('[role="tab"]')];
  const i = tabs.indexOf(event.target);
  const next = {
    ArrowRight: tabs[(i + 1) % tabs.length],
    ArrowLeft: tabs[(i + tabs.length - 1) % tabs.length],
    Home: tabs[0],
    End: tabs[tabs.length - 1],
  }[event.key];
  if (next) {
    event.preventDefault();
    selectTab(next);
  }
}

// --- wiring ----------------------------------------------------------------------------------
function init() {
  $("signin-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const key = $("api-key").value.trim();
    if (key) signIn(key, false);
  });
  $("sign-out").addEventListener("click", () => signOut({ note: "Signed out." }));
  $("assess-form").addEventListener("submit", assess);
  $("assess-form").addEventListener("change", onFormChange);
  $("load-example").addEventListener("click", () => {
    fillForm(state.catalogue.examples[Number($("example").value) || 0].proposal);
    forgetResult(); // the result on screen was for other answers
    $("assess-button").focus();
  });
  $("whatif-reset").addEventListener("click", undoWhatIf);
  $("plan-steps").addEventListener("click", (e) => {
    const button = e.target.closest(".try-step");
    if (button) tryPlanUpTo(Number(button.dataset.step));
  });
  $("portfolio-form").addEventListener("submit", scorePortfolio);
  $("portfolio-filters").addEventListener("change", onFilter);
  $("portfolio-table").querySelector("tbody").addEventListener("click", onPortfolioRow);
  $("portfolio-table").querySelector("tbody").addEventListener("keydown", onPortfolioRow);
  $("export-csv").addEventListener("click", exportPortfolio);
  $("download-template").addEventListener("click", downloadTemplate);
  $("print-portfolio").addEventListener("click", printPortfolio);
  $("portfolio-table").querySelector("thead").addEventListener("click", (e) => {
    const button = e.target.closest("button[data-sort]");
    if (button) sortPortfolio(button.dataset.sort);
  });
  for (const t of document.querySelectorAll('[role="tab"]')) {
    t.addEventListener("click", () => selectTab(t));
    t.addEventListener("keydown", onTabKey);
  }
  let resizeTimer = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizeTimer);
    resizeTimer = setTimeout(() => {
      if (state.shown) render(state.shown.assessment, state.shown.whatif);
      updateTableCue();
    }, 200);
  });
  const saved = sessionStorage.getItem(KEY_STORAGE);
  if (saved) signIn(saved, true);
}

document.addEventListener("DOMContentLoaded", init);
