// Node settings from a kind's dataSchema: which fields to show and how to check values.
// Mirrors engine/schema.py (type, enum, minimum, maximum, maxLength). Pure: no DOM.

const TYPE_NAMES = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  null: "empty",
};

const LONG_TEXT = new Set(["text", "template", "systemPrompt", "prompt"]);

function typesOf(prop) {
  const types = prop.type || [];
  return Array.isArray(types) ? types : [types];
}

// Form fields for a schema, in schema order, with the widget each needs.
export function fieldsFor(schema) {
  const properties = (schema && schema.properties) || {};
  return Object.entries(properties).map(([name, prop]) => {
    const types = typesOf(prop);
    let widget = "text";
    if (Array.isArray(prop.enum)) widget = "select";
    else if (types.includes("boolean")) widget = "checkbox";
    else if (types.includes("integer")) widget = "integer";
    else if (types.includes("number")) widget = "number";
    else if (LONG_TEXT.has(name)) widget = "textarea";
    return {
      name,
      title: prop.title || name,
      widget,
      nullable: types.includes("null"),
      enum: prop.enum || null,
      minimum: prop.minimum,
      maximum: prop.maximum,
      maxLength: prop.maxLength,
      default: prop.default,
      description: prop.description || "",
      examples: Array.isArray(prop.examples) ? prop.examples : [],
    };
  });
}

function hasType(value, name) {
  if (name === "string") return typeof value === "string";
  if (name === "number") return typeof value === "number" && Number.isFinite(value);
  if (name === "integer") return Number.isInteger(value);
  if (name === "boolean") return typeof value === "boolean";
  if (name === "null") return value === null;
  return true;
}

// Why `value` breaks `prop`, or null when it conforms.
export function checkValue(prop, value) {
  const types = typesOf(prop);
  if (types.length && !types.some((type) => hasType(value, type))) {
    return `must be ${types.map((type) => TYPE_NAMES[type] || type).join(" or ")}`;
  }
  if (Array.isArray(prop.enum) && !prop.enum.includes(value)) {
    return `must be one of ${prop.enum.join(", ")}`;
  }
  if (typeof value === "string" && prop.maxLength !== undefined && value.length > prop.maxLength) {
    return `is ${value.length} characters long; the limit is ${prop.maxLength}`;
  }
  if (typeof value === "number") {
    if (prop.minimum !== undefined && value < prop.minimum) return `must be at least ${prop.minimum}`;
    if (prop.maximum !== undefined && value > prop.maximum) return `must be at most ${prop.maximum}`;
  }
  return null;
}

// {property: message} for every property of `data` that breaks the schema.
export function checkData(schema, data) {
  const problems = {};
  const properties = (schema && schema.properties) || {};
  for (const name of (schema && schema.required) || []) {
    if (!(name in data)) problems[name] = "is required";
  }
  for (const [name, value] of Object.entries(data || {})) {
    if (!properties[name]) continue;
    const message = checkValue(properties[name], value);
    if (message) problems[name] = message;
  }
  return problems;
}

// Turns what an input holds (always a string, or a boolean for checkboxes) into the JSON value to store.
// Text that is not a number stays text so that checkValue can say what is wrong with it.
export function parseInput(field, raw) {
  if (field.widget === "checkbox") return Boolean(raw);
  if (field.widget === "number" || field.widget === "integer") {
    const text = String(raw).trim();
    if (text === "") return field.nullable ? null : text;
    const number = Number(text);
    return Number.isNaN(number) ? text : number;
  }
  if (field.nullable && raw === "") return null;
  return raw;
}
