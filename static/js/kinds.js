// How each node kind looks in the palette and on the canvas: its group, icon and a one-line summary of a node's
// settings, all from the kind's catalog entry (engine/kinds/base.py's describe()). Pure: no DOM.

import { callerSummary } from "./callees.js";
import { holds } from "./portrules.js";

// A kind that declares no icon still gets one.
export function kindIcon(kind) {
  return (kind && kind.icon) || "◆";
}

// The palette: [{group, kinds}], each group where its first kind comes in the catalog (which is in palette order).
export function paletteGroups(kinds) {
  const groups = new Map();
  for (const kind of kinds) {
    const group = (kind.palette && kind.palette.group) || "More";
    if (!groups.has(group)) groups.set(group, []);
    groups.get(group).push(kind);
  }
  return [...groups].map(([group, members]) => ({ group, kinds: members }));
}

function oneLine(text, limit = 80) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

function isEmpty(value) {
  return value === null || value === undefined || value === "";
}

// A data field as a summary reads it: its value, else (empty) its schema default.
function fieldValue(data, kind, field) {
  if (!isEmpty(data[field])) return data[field];
  const prop = kind && kind.dataSchema && kind.dataSchema.properties && kind.dataSchema.properties[field];
  return prop ? prop.default : undefined;
}

// One rule row as people read it: `not $.label equals "spam"`.
function ruleText(rule) {
  if (!rule || typeof rule !== "object") return "?";
  const operator = String(rule.operator || "?").replaceAll("_", " ");
  const operand = rule.operator === "is_empty" ? "" : ` ${JSON.stringify(rule.value ?? "")}`;
  return `${rule.negate ? "not " : ""}${rule.path || "value"} ${operator}${operand}`;
}

// The named formatters a summary part may select: generic over the data fields the part names.
const FORMATS = {
  // A list of rules ({operator, value, path?, negate?}) joined by "and", or "or" when `combineField` is "any".
  rules: (part, data) => {
    const rules = Array.isArray(data[part.field]) ? data[part.field] : [];
    if (!rules.length) return part.empty || "";
    return oneLine(rules.map(ruleText).join(data[part.combineField] === "any" ? " or " : " and "));
  },
  // Which workflow a caller node calls, and which version.
  callee: (part, data) => callerSummary(data, part.verb),
};

// A summary part's text, or null when it gives none (its `when` fails, or a field it names is empty).
function partText(part, data, kind) {
  if (part.when && !holds(part.when, data)) return null;
  if (part.format) {
    const format = FORMATS[part.format];
    return format ? format(part, data) || null : null;
  }
  let missing = false;
  const text = String(part.text || "").replace(/\{(\w+)\}/g, (_, field) => {
    const value = fieldValue(data, kind, field);
    if (isEmpty(value)) missing = true;
    if (isEmpty(value)) return "";
    // A list of names (a model chain) reads in order; other values as JSON.
    const names = Array.isArray(value) && value.every((item) => typeof item === "string");
    return oneLine(typeof value === "string" ? value : names ? value.join(" → ") : JSON.stringify(value));
  });
  return missing || !text ? null : text;
}

// What the node holds, before any run, as its kind's `summary` rule says: the first `choose` part that gives a
// text, then each `append` part that does. Without a rule: the first non-empty text setting, else the description.
export function nodeSummary(node, kind) {
  const data = node.data || {};
  const rule = kind && kind.summary;
  if (!rule) {
    const first = Object.entries(data).find(([name, value]) => name !== "label" && typeof value === "string" && value);
    return first ? oneLine(first[1]) : (kind && kind.description) || "";
  }
  let text = "";
  for (const part of rule.choose || []) {
    const found = partText(part, data, kind);
    if (found !== null) {
      text = found;
      break;
    }
  }
  for (const part of rule.append || []) text += partText(part, data, kind) ?? "";
  return text;
}

// The node as people read it, in every message and on the canvas (engine/graph.py's display_name does the
// same for the server's messages): its label, else its kind and number ("LLM 2" for the id "llm-2").
export function nodeName(node, kind) {
  const label = node.data && typeof node.data.label === "string" ? node.data.label.trim() : "";
  if (label) return label;
  const number = /^[A-Za-z_]+-(\d+)$/.exec(node.id);
  return `${kind ? kind.label : node.type} ${number ? number[1] : node.id}`;
}
