// The assessment form, generated from the catalogue: its context fields and one section per
// dimension, read into a proposal and filled from one (an example, a saved file, a portfolio
// row), and the problems the service names shown at their fields.
import { $, el } from "./dom.js";
import { capitalize, dateBoxHint, humanize } from "./format.js";
import { label } from "./state.js";

export function buildForm(state, catalogue) {
  const context = $("context-fields");
  // a file-row identifier is filled in by the service (a proposal's number is its row)
  for (const f of catalogue.context) if (!f.filled_in) context.append(contextInput(f));
  const dims = $("dimension-fields");
  for (const d of catalogue.dimensions) {
    const fs = el("fieldset", { class: "dimension" }, el("legend", { text: d.label }));
    fs.append(el("p", { class: "muted", text: d.description }));
    for (const f of d.factors) fs.append(factorInput(state, f, catalogue.scale));
    dims.append(fs);
  }
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
  const hint = f.type === "date" ? `${f.description || ""} ${dateBoxHint(navigator.language)}`.trim() : f.description;
  return fieldWrap(f.name, `${f.label || humanize(f.name)}${f.nullable ? " (optional)" : ""}`, hint, control);
}

// Each factor has its own scale (a catalogue may mix 1-6 ratings with a 1-4 one); a level
// shows its rubric text, else its label (for example "Moderately Satisfactory").
function factorInput(state, f, fallback) {
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
  const wrap = fieldWrap(f.name, f.label, f.question || label(state, f.dimension), control);
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

// A control's text as the proposal's value: null when blank, a number, a boolean or the text.
export function valueOf(text, { factor = false, kind = "" } = {}) {
  const v = text.trim();
  if (v === "") return null;
  if (factor || kind === "integer" || kind === "number") return Number(v);
  if (kind === "boolean") return v === "true";
  return v;
}

export function readProposal() {
  const proposal = {};
  for (const c of controls()) proposal[c.name] = valueOf(c.value, { factor: Boolean(c.dataset.factor), kind: c.dataset.kind });
  return proposal;
}

export function fillForm(proposal) {
  for (const c of controls()) {
    const v = proposal[c.name];
    c.value = v === null || v === undefined ? "" : c.tagName === "SELECT" ? matchOption([...c.options], c.dataset.kind, String(v)) : String(v);
  }
  clearFieldErrors();
}

// A cell as a file gives it, read as one of a list's options ({value, text}): "2.0" (pandas
// writes whole numbers of a column with blanks so) is 2, a level's label is its level, a
// category matches in any case; what matches no option (an unknown token) is left unanswered
// (""), as the server reads it.
export function matchOption(all, kind, text) {
  const options = all.filter((o) => o.value !== "");
  const wanted = text.trim();
  const folded = wanted.toLowerCase();
  const number = wanted !== "" && Number.isFinite(Number(wanted)) ? Number(wanted) : null;
  if (kind === "boolean") {
    if (["true", "yes", "y", "t", "1", "1.0"].includes(folded)) return "true";
    if (["false", "no", "n", "f", "0", "0.0"].includes(folded)) return "false";
  }
  const hit =
    options.find((o) => o.value === wanted) ||
    options.find((o) => number !== null && Number(o.value) === number && o.value.trim() !== "") ||
    options.find((o) => o.value.toLowerCase() === folded) ||
    options.find((o) => {
      const meaning = o.text.split(" \u2013 ").slice(1).join(" \u2013 ").toLowerCase();
      return meaning !== "" && meaning === folded;
    });
  return hit ? hit.value : "";
}

export function clearFieldErrors() {
  $("form-errors").hidden = true;
  for (const e of document.querySelectorAll(".field-error")) e.hidden = true;
  for (const c of controls()) c.removeAttribute("aria-invalid");
}

// Where a problem the service names is: "Row 3 (AB-1), budget_eur" in a file, else the field.
export function problemText(p, labelOf) {
  const field = p.column || String(p.path || "").split(".").pop();
  const where = p.row ? `Row ${p.row}${p.initiative_id ? ` (${p.initiative_id})` : ""}, ${field}` : labelOf(field);
  const got = p.value !== null && p.value !== undefined && p.value !== "" ? ` (got \u201c${p.value}\u201d)` : "";
  return { field, text: `${where}: ${p.rule}${got}` };
}

// `resolve` maps a field name to its form control (to mark it invalid), or null.
export function showProblems(state, box, err, resolve = () => null) {
  box.replaceChildren(el("p", { text: capitalize(err.message) }));
  const problems = (err.body || {}).problems || [];
  if (problems.length) {
    const list = el("ul");
    for (const p of problems.slice(0, 50)) {
      const { field, text } = problemText(p, (name) => label(state, name));
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

// The controls answered otherwise than assessed are marked.
export function markChanged(changes) {
  for (const c of controls()) c.classList.toggle("changed", c.name in changes);
}

// A form control by the field's name (a factor's or a context field's), or null.
export const controlFor = (name) => document.getElementById(`f-${name}`) || document.getElementById(`c-${name}`);
