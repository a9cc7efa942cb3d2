// What a parameter's JSON Schema asks the form for: the kind of field that edits it.
export function fieldKind(schema) {
  if (!schema || typeof schema !== "object") return "any";
  const simple = (s) => s && ["string", "number", "integer"].includes(s.type) && !s.enum;
  if (Array.isArray(schema.enum)) return "enum";
  if (schema.anyOf || schema.oneOf) {
    const variants = schema.anyOf || schema.oneOf;
    return variants.every((v) => simple(v) || (v.type === "array" && simple(v.items))) ? "text" : "json";
  }
  switch (schema.type) {
    case "string": return "text";
    case "number": case "integer": return "number";
    case "boolean": return "boolean";
    case "array": return simple(schema.items) ? "lines" : "json";
    case "object": {
      const extra = schema.additionalProperties;
      const open = extra === true || (extra && typeof extra === "object" && (simple(extra) || !extra.type));
      return !Object.keys(schema.properties || {}).length && open ? "kv" : "json";
    }
    case undefined: return "any";
    default: return "json";
  }
}
