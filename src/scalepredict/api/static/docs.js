// The API reference page: reads this service's OpenAPI document (/docs.json, same origin, open)
// and lists every operation with its request body's fields and its documented answers. No
// third-party script or font, so it works offline.
"use strict";

const METHODS = ["get", "head", "post", "put", "patch", "delete"];

function node(tag, attrs = {}, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs)) e.setAttribute(k, v);
  for (const c of children) if (c !== null && c !== undefined) e.append(c);
  return e;
}

// The descriptions are Markdown: `code` spans become <code>, the rest stays text (never HTML).
function inline(text) {
  return String(text || "")
    .split(/`([^`]+)`/)
    .map((part, i) => (i % 2 ? node("code", {}, part) : part))
    .filter((part) => part !== "");
}

function resolve(spec, schema, depth = 0) {
  if (!schema || depth > 20) return schema || {};
  if (schema.$ref) {
    const parts = schema.$ref.replace(/^#\//, "").split("/");
    return resolve(spec, parts.reduce((o, p) => (o ? o[p] : undefined), spec), depth + 1);
  }
  const alts = schema.anyOf || schema.oneOf;
  if (alts) {
    const real = alts.filter((a) => a.type !== "null");
    if (real.length === 1) return { ...schema, ...resolve(spec, real[0], depth + 1), nullable: true };
  }
  return schema;
}

function typeText(spec, schema) {
  const s = resolve(spec, schema);
  if (s.type === "array") return `list of ${typeText(spec, s.items)}`;
  if (s.title && s.properties) return s.title;
  const alts = s.anyOf || s.oneOf;
  if (alts) return alts.map((a) => typeText(spec, a)).join(" or ");
  return (s.type || "any") + (s.nullable ? " or null" : "");
}

function enumOf(s) {
  if (s.enum) return s.enum;
  if (s.type === "array" && s.items && s.items.enum) return s.items.enum;
  return null;
}

// One row per field; an object's (or a list of objects') fields follow, prefixed by its name.
function fieldRows(spec, schema, prefix, rows, depth = 0) {
  const s = resolve(spec, schema);
  const required = new Set(s.required || []);
  for (const [name, raw] of Object.entries(s.properties || {})) {
    const f = resolve(spec, raw);
    const path = prefix ? `${prefix}.${name}` : name;
    const values = enumOf(f);
    rows.push(
      node(
        "tr",
        {},
        node("th", { scope: "row" }, node("code", {}, path)),
        node("td", {}, typeText(spec, raw)),
        node("td", {}, required.has(name) ? "yes" : "no"),
        node(
          "td",
          {},
          ...inline(f.description || raw.description),
          values ? node("span", { class: "enum" }, ` One of: ${values.join(", ")}.`) : null,
        ),
      ),
    );
    const inner = f.type === "array" ? resolve(spec, f.items) : f;
    if (inner.properties && depth < 3) fieldRows(spec, inner, path + (f.type === "array" ? "[]" : ""), rows, depth + 1);
  }
}

function fieldsTable(spec, schema, caption) {
  const rows = [];
  fieldRows(spec, schema, "", rows);
  if (!rows.length) return node("p", {}, `${caption}: ${typeText(spec, schema)}.`);
  const head = node("tr", {}, ...["Field", "Type", "Required", "Description"].map((h) => node("th", { scope: "col" }, h)));
  return node(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    node("table", { class: "compact" }, node("caption", {}, caption), node("thead", {}, head), node("tbody", {}, ...rows)),
  );
}

function operation(spec, path, method, op, id) {
  const sec = node("section", { class: "card operation", id, "aria-labelledby": `${id}-title` });
  sec.append(node("h2", { id: `${id}-title` }, node("span", { class: "method" }, method.toUpperCase()), " ", node("code", {}, path)));
  if (op.summary) sec.append(node("p", { class: "summary" }, ...inline(op.summary)));
  if (op.description) for (const para of op.description.split(/\n\s*\n/)) sec.append(node("p", {}, ...inline(para)));
  if (op.security && op.security.length) {
    sec.append(node("p", { class: "muted" }, "Needs a key: ", node("code", {}, "Authorization: Bearer <key>"), "."));
  }
  const params = op.parameters || [];
  if (params.length) {
    sec.append(node("h3", {}, "Query parameters"));
    const items = params.map((p) => {
      const s = resolve(spec, p.schema);
      const values = enumOf(s);
      const dflt = p.schema && p.schema.default !== undefined ? `, default ${p.schema.default}` : "";
      return node("li", {}, node("code", {}, p.name), ` (${typeText(spec, p.schema)}${dflt})`, values ? ` One of: ${values.join(", ")}.` : "");
    });
    sec.append(node("ul", {}, ...items));
  }
  const body = op.requestBody;
  if (body) {
    sec.append(node("h3", {}, "Request body"));
    if (body.description) sec.append(node("p", {}, ...inline(body.description)));
    for (const [media, content] of Object.entries(body.content || {})) {
      sec.append(fieldsTable(spec, content.schema, `Request body of ${method.toUpperCase()} ${path} (${media})`));
    }
  }
  sec.append(node("h3", {}, "Responses"));
  const rows = Object.entries(op.responses || {}).map(([status, r]) => {
    const res = resolve(spec, r);
    const media = Object.entries(res.content || {}).map(([m, c]) => `${m}: ${typeText(spec, c.schema)}`);
    return node("tr", {}, node("th", { scope: "row" }, status), node("td", {}, ...inline(res.description)), node("td", {}, media.join("; ")));
  });
  const head = node("tr", {}, ...["Status", "Meaning", "Body"].map((h) => node("th", { scope: "col" }, h)));
  sec.append(
    node(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Responses of ${method.toUpperCase()} ${path}` },
      node("table", { class: "compact" }, node("caption", { class: "visually-hidden" }, "Documented responses"), node("thead", {}, head), node("tbody", {}, ...rows)),
    ),
  );
  return sec;
}

async function showDocs() {
  const status = document.getElementById("docs-status");
  try {
    const response = await fetch("/docs.json", { headers: { Accept: "application/json" } });
    if (!response.ok) throw new Error(`status ${response.status}`);
    const spec = await response.json();
    const info = spec.info || {};
    document.getElementById("api-info").replaceChildren(...inline(`${info.title || "API"} ${info.version || ""}. ${info.description || ""}`.trim()));
    const list = node("ul", {});
    const ops = document.getElementById("operations");
    let n = 0;
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS.filter((m) => item[m])) {
        const id = `op-${method}-${path.replace(/[^\w]+/g, "-")}`;
        ops.append(operation(spec, path, method, item[method], id));
        list.append(node("li", {}, node("a", { href: `#${id}` }, `${method.toUpperCase()} ${path}`), item[method].summary ? ` — ${item[method].summary}` : ""));
        n += 1;
      }
    }
    const toc = document.getElementById("docs-toc");
    toc.replaceChildren(node("h2", {}, "Operations"), list);
    toc.hidden = false;
    status.textContent = `${n} operations.`;
  } catch (err) {
    status.textContent = `The API description could not be loaded (${err.message}).`;
    status.classList.add("error");
  }
}

showDocs();
