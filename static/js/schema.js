// Node settings from a kind's dataSchema: which fields to show and how to check values.
// Mirrors engine/schema.py (type, enum, minimum, maximum, maxLength, and `items` for the form). Pure: no DOM.

const TYPE_NAMES = {
  string: "a string",
  number: "a number",
  integer: "an integer",
  boolean: "true or false",
  null: "empty",
  object: "an object",
  array: "a list",
};

function typesOf(prop) {
  const types = prop.type || [];
  return Array.isArray(types) ? types : [types];
}

// Form fields for a schema, in schema order, with the widget each needs. Structured values get one of two:
// a list of objects whose `items` name their properties is edited as rows ("rows", each row the item's own
// fields); a model chain (`widget: "models"`) as a list of names ("chain"); any other object or list as JSON
// text ("json").
export function fieldsFor(schema) {
  const properties = (schema && schema.properties) || {};
  const required = (schema && schema.required) || [];
  return Object.entries(properties).map(([name, prop]) => {
    const types = typesOf(prop);
    const items = prop.items && prop.items.properties ? prop.items : null;
    let widget = "text";
    if (Array.isArray(prop.enum)) widget = "select";
    else if (prop.widget === "models") widget = "chain";
    else if (prop.widget === "tools") widget = "tools";
    else if (types.includes("array") && items) widget = "rows";
    else if (types.includes("object") || types.includes("array")) widget = "json";
    else if (types.includes("boolean")) widget = "checkbox";
    else if (types.includes("integer")) widget = "integer";
    else if (types.includes("number")) widget = "number";
    else if (prop.format === "code") widget = "code";
    else if (prop.multiline) widget = "textarea";
    return {
      name,
      title: prop.title || name,
      widget,
      types,
      nullable: types.includes("null"),
      enum: prop.enum || null,
      minimum: prop.minimum,
      maximum: prop.maximum,
      maxLength: prop.maxLength,
      default: prop.default,
      description: prop.description || "",
      examples: Array.isArray(prop.examples) ? prop.examples : [],
      required: required.includes(name),
      itemFields: widget === "rows" ? fieldsFor(items) : null,
      itemTitle: widget === "rows" ? items.title || null : null,
      toolTypes: widget === "tools" ? prop.toolTypes || [] : null,
    };
  });
}

function hasType(value, name) {
  if (name === "string") return typeof value === "string";
  if (name === "number") return typeof value === "number" && Number.isFinite(value);
  if (name === "integer") return Number.isInteger(value);
  if (name === "boolean") return typeof value === "boolean";
  if (name === "null") return value === null;
  if (name === "object") return value !== null && typeof value === "object" && !Array.isArray(value);
  if (name === "array") return Array.isArray(value);
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

// What a "json" field's text holds: {value} when it parses (empty text is null for a nullable field), or
// {error} saying where it does not. Nothing is stored while there is an error.
export function parseJsonText(field, text) {
  if (!String(text).trim()) {
    return field.nullable ? { value: null } : { error: "is required: write JSON here" };
  }
  let value;
  try {
    value = JSON.parse(text);
  } catch (error) {
    return { error: `is not JSON: ${error.message}` };
  }
  const problem = checkValue({ type: field.types }, value);
  return problem ? { error: problem } : { value };
}

// The text a "json" field shows for a stored value: indented JSON, empty for null or nothing.
export function jsonText(value) {
  return value === null || value === undefined ? "" : JSON.stringify(value, null, 2);
}

// One row of a "rows" field as the object to store: each item field's value read from `raw` (what its input
// holds), with optional fields left empty (blank text, an unticked box that defaults to false) left out,
// so an unused optional setting is absent rather than an empty string the engine would refuse.
export function rowItem(itemFields, raw) {
  const item = {};
  for (const field of itemFields) {
    if (!(field.name in raw)) continue;
    const value = field.widget === "select" ? raw[field.name] : parseInput(field, raw[field.name]);
    const unused = value === "" || value === null || (value === false && field.default !== true);
    if (unused && !field.required) continue;
    item[field.name] = value;
  }
  return item;
}

// A new row: each item field's default, else the first choice of a select.
export function newRowItem(itemFields) {
  const raw = {};
  for (const field of itemFields) {
    if (field.default !== undefined) raw[field.name] = field.default;
    else if (field.widget === "select") raw[field.name] = field.enum[0];
  }
  return rowItem(itemFields, raw);
}

// The messages about one row of a "rows" field, by item field ("" for the row itself), from errors keyed by
// path under the node's data ("rules[1].value", "rules[1]").
export function rowErrors(errors, name, index) {
  const prefix = `${name}[${index}]`;
  const found = {};
  for (const [path, message] of Object.entries(errors || {})) {
    if (path === prefix) found[""] = message;
    else if (path.startsWith(`${prefix}.`)) found[path.slice(prefix.length + 1)] = message;
  }
  return found;
}
