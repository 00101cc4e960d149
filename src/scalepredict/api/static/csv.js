// CSV in and out of the page: the uploaded file read as the server reads it (comma, semicolon
// or tab; quoted cells; CRLF), the export written so a spreadsheet runs no formula, and the
// template's header. Pure functions: `node --test` checks them.

// The rows of a CSV text (blank lines dropped); the separator is guessed from the header.
export function parseCsv(text) {
  const header = text.split("\n", 1)[0];
  const count = (d) => header.split(d).length - 1;
  const sep = count(",") === 0 && (count(";") || count("\t")) ? (count(";") >= count("\t") ? ";" : "\t") : ",";
  const rows = [];
  let row = [];
  let cell = "";
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const c = text[i];
    if (quoted) {
      if (c === '"' && text[i + 1] === '"') (cell += '"'), i++;
      else if (c === '"') quoted = false;
      else cell += c;
    } else if (c === '"') quoted = true;
    else if (c === sep) row.push(cell), (cell = "");
    else if (c === "\n" || c === "\r") {
      if (c === "\r" && text[i + 1] === "\n") i++;
      row.push(cell);
      rows.push(row);
      (row = []), (cell = "");
    } else cell += c;
  }
  if (cell || row.length) row.push(cell), rows.push(row);
  return rows.filter((r) => r.some((c) => c !== ""));
}

// A file's bytes as text: UTF-8, without the byte-order mark a spreadsheet writes.
export const decodeCsv = (buffer) => new TextDecoder().decode(buffer).replace(/^\ufeff/, "");

// Each data row as {column: trimmed cell}, by the header's trimmed names.
export function records(rows) {
  const [first, ...data] = rows;
  const names = (first || []).map((n) => n.trim());
  return data.map((r) => Object.fromEntries(names.map((n, i) => [n, (r[i] ?? "").trim()])));
}

// A line of a part of the uploaded file, sent back to the server as it came.
export function csvLine(cells) {
  return cells.map((c) => (/[",\n\r]/.test(c) ? `"${c.replaceAll('"', '""')}"` : c)).join(",");
}

// A cell of an export: numbers as they are, text quoted when needed and never a formula.
export function csvCell(v) {
  if (typeof v === "number") return String(v);
  let s = String(v ?? "");
  if (/^[=+\-@\t\r]/.test(s)) s = `'${s}`; // a spreadsheet must not run it as a formula
  return /[",\n\r]/.test(s) ? `"${s.replaceAll('"', '""')}"` : s;
}

// The portfolio as the table shows it (filtered, in its order), with the budget's columns
// when one was chosen.
export function portfolioCsv(rows, withBudget) {
  const header = ["initiative_id", "probability", "risk_band", "weakest_dimension", "weakest_points", "uncertainty", "plan_summary"];
  if (withBudget) header.push("decision", "cost");
  const lines = rows.map((r) =>
    [r.initiative_id, r.probability, r.risk_band, r.weakest, Number(r.weakest_points.toFixed(1)), r.uncertainty, r.plan_summary || ""]
      .concat(withBudget ? [r.decision, r.cost] : [])
      .map(csvCell)
      .join(","),
  );
  return [header.join(","), ...lines].join("\n") + "\n";
}

// An empty template: the catalogue's context fields, then every factor.
export function templateCsv(catalogue) {
  const names = [
    ...catalogue.context.map((f) => f.name),
    ...catalogue.dimensions.flatMap((d) => d.factors.map((f) => f.name)),
  ];
  return names.join(",") + "\n";
}
