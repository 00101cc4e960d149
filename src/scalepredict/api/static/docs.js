// The API reference page: reads this service's OpenAPI document (/docs.json, same origin, open)
// and lists every operation with its request body's fields and its documented answers. No
// third-party script or font, so it works offline.
import { el } from "./dom.js";
import { METHODS, codeSpans, enumOf, resolve, typeText } from "./openapi.js";

// A description's `code` spans become <code>, the rest stays text (never HTML).
function inline(text) {
  return codeSpans(text)
    .map((part, i) => (i % 2 ? el("code", {}, part) : part))
    .filter((part) => part !== "");
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
      el(
        "tr",
        {},
        el("th", { scope: "row" }, el("code", {}, path)),
        el("td", {}, typeText(spec, raw)),
        el("td", {}, required.has(name) ? "yes" : "no"),
        el(
          "td",
          {},
          ...inline(f.description || raw.description),
          values ? el("span", { class: "enum" }, ` One of: ${values.join(", ")}.`) : null,
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
  if (!rows.length) return el("p", {}, `${caption}: ${typeText(spec, schema)}.`);
  const head = el("tr", {}, ...["Field", "Type", "Required", "Description"].map((h) => el("th", { scope: "col" }, h)));
  return el(
    "div",
    { class: "table-wrap", tabindex: "0", role: "region", "aria-label": caption },
    el("table", { class: "compact" }, el("caption", {}, caption), el("thead", {}, head), el("tbody", {}, ...rows)),
  );
}

function operation(spec, path, method, op, id) {
  const sec = el("section", { class: "card operation", id, "aria-labelledby": `${id}-title` });
  sec.append(el("h2", { id: `${id}-title` }, el("span", { class: "method" }, method.toUpperCase()), " ", el("code", {}, path)));
  if (op.summary) sec.append(el("p", { class: "summary" }, ...inline(op.summary)));
  if (op.description) for (const para of op.description.split(/\n\s*\n/)) sec.append(el("p", {}, ...inline(para)));
  if (op.security && op.security.length) {
    sec.append(el("p", { class: "muted" }, "Needs a key: ", el("code", {}, "Authorization: Bearer <key>"), "."));
  }
  const params = op.parameters || [];
  if (params.length) {
    sec.append(el("h3", {}, "Query parameters"));
    const items = params.map((p) => {
      const s = resolve(spec, p.schema);
      const values = enumOf(s);
      const dflt = p.schema && p.schema.default !== undefined ? `, default ${p.schema.default}` : "";
      return el("li", {}, el("code", {}, p.name), ` (${typeText(spec, p.schema)}${dflt})`, values ? ` One of: ${values.join(", ")}.` : "");
    });
    sec.append(el("ul", {}, ...items));
  }
  const body = op.requestBody;
  if (body) {
    sec.append(el("h3", {}, "Request body"));
    if (body.description) sec.append(el("p", {}, ...inline(body.description)));
    for (const [media, content] of Object.entries(body.content || {})) {
      sec.append(fieldsTable(spec, content.schema, `Request body of ${method.toUpperCase()} ${path} (${media})`));
    }
  }
  sec.append(el("h3", {}, "Responses"));
  const rows = Object.entries(op.responses || {}).map(([status, r]) => {
    const res = resolve(spec, r);
    const media = Object.entries(res.content || {}).map(([m, c]) => `${m}: ${typeText(spec, c.schema)}`);
    return el("tr", {}, el("th", { scope: "row" }, status), el("td", {}, ...inline(res.description)), el("td", {}, media.join("; ")));
  });
  const head = el("tr", {}, ...["Status", "Meaning", "Body"].map((h) => el("th", { scope: "col" }, h)));
  sec.append(
    el(
      "div",
      { class: "table-wrap", tabindex: "0", role: "region", "aria-label": `Responses of ${method.toUpperCase()} ${path}` },
      el("table", { class: "compact" }, el("caption", { class: "visually-hidden" }, "Documented responses"), el("thead", {}, head), el("tbody", {}, ...rows)),
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
    const list = el("ul", {});
    const ops = document.getElementById("operations");
    let n = 0;
    for (const [path, item] of Object.entries(spec.paths || {})) {
      for (const method of METHODS.filter((m) => item[m])) {
        const id = `op-${method}-${path.replace(/[^\w]+/g, "-")}`;
        ops.append(operation(spec, path, method, item[method], id));
        list.append(el("li", {}, el("a", { href: `#${id}` }, `${method.toUpperCase()} ${path}`), item[method].summary ? ` — ${item[method].summary}` : ""));
        n += 1;
      }
    }
    const toc = document.getElementById("docs-toc");
    toc.replaceChildren(el("h2", {}, "Operations"), list);
    toc.hidden = false;
    status.textContent = `${n} operations.`;
  } catch (err) {
    status.textContent = `The API description could not be loaded (${err.message}).`;
    status.classList.add("error");
  }
}

showDocs();
