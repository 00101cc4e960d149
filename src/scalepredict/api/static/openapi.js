// Reading an OpenAPI document for the API reference page: references resolved, a schema's type
// in words, its allowed values, the Markdown code spans of a description. Pure functions (no
// DOM): `node --test` checks them.

export const METHODS = ["get", "head", "post", "put", "patch", "delete"];

// The descriptions are Markdown: the text split at its `code` spans, [text, code, text, ...].
export const codeSpans = (text) => String(text || "").split(/`([^`]+)`/);

export function resolve(spec, schema, depth = 0) {
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

export function typeText(spec, schema) {
  const s = resolve(spec, schema);
  if (s.type === "array") return `list of ${typeText(spec, s.items)}`;
  if (s.title && s.properties) return s.title;
  const alts = s.anyOf || s.oneOf;
  if (alts) return alts.map((a) => typeText(spec, a)).join(" or ");
  return (s.type || "any") + (s.nullable ? " or null" : "");
}

export function enumOf(s) {
  if (s.enum) return s.enum;
  if (s.type === "array" && s.items && s.items.enum) return s.items.enum;
  return null;
}
