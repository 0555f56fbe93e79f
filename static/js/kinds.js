// How each node kind looks on the canvas and in the palette: its icon and a one-line summary of its settings.
// Pure: no DOM.

import { callerSummary } from "./callees.js";

const ICONS = {
  text: "¶",
  prompt: "✎",
  image: "▣",
  llm: "✦",
  vision: "◉",
  debug: "⌕",
  condition: "◇",
  merge: "⋈",
  extract: "{}",
  subworkflow: "↪", // a call into another workflow (glyphs from Debian's DejaVu fonts: "⧉" shows as a box)
  map: "⇶", // the same call fanned out over the items
  input: "⇥",
  output: "⇤",
};

// A kind the editor does not know yet (one added on the server later) still gets an icon.
export function kindIcon(type) {
  return ICONS[type] || "◆";
}

function oneLine(text, limit = 80) {
  const flat = String(text).replace(/\s+/g, " ").trim();
  return flat.length > limit ? `${flat.slice(0, limit - 1)}…` : flat;
}

function defaultOf(kind, field) {
  const prop = kind && kind.dataSchema && kind.dataSchema.properties && kind.dataSchema.properties[field];
  return prop && prop.default;
}

// One Condition rule as people read it: `not $.label equals "spam"`.
function ruleText(rule) {
  if (!rule || typeof rule !== "object") return "?";
  const operator = String(rule.operator || "?").replaceAll("_", " ");
  const operand = rule.operator === "is_empty" ? "" : ` ${JSON.stringify(rule.value ?? "")}`;
  return `${rule.negate ? "not " : ""}${rule.path || "value"} ${operator}${operand}`;
}

// What the node holds, before any run: the Text's text, the Prompt's template, the LLM's model.
export function nodeSummary(node, kind) {
  const data = node.data || {};
  switch (node.type) {
    case "text":
      return data.text ? oneLine(data.text) : "Empty text";
    case "prompt":
      return data.template ? oneLine(data.template) : "Empty template";
    case "image":
      if (data.uploadId) return "Uploaded image";
      if (data.url) return oneLine(data.url);
      return "No image yet";
    case "llm":
    case "vision": {
      const model = data.model || defaultOf(kind, "model");
      const text = model ? `Model: ${model}` : "Default model";
      return data.jsonSchema ? `${text} · JSON` : text;
    }
    case "condition": {
      const rules = Array.isArray(data.rules) ? data.rules : [];
      if (!rules.length) return "No rules yet";
      return oneLine(rules.map(ruleText).join(data.combine === "any" ? " or " : " and "));
    }
    case "debug":
      return "Shows what it receives";
    case "subworkflow":
    case "map":
      return callerSummary(node);
    default: {
      const first = Object.entries(data).find(([name, value]) => name !== "label" && typeof value === "string" && value);
      return first ? oneLine(first[1]) : (kind && kind.description) || "";
    }
  }
}

// The node as people read it, in every message and on the canvas (engine/graph.py's display_name does the
// same for the server's messages): its label, else its kind and number ("LLM 2" for the id "llm-2").
export function nodeName(node, kind) {
  const label = node.data && typeof node.data.label === "string" ? node.data.label.trim() : "";
  if (label) return label;
  const number = /^[A-Za-z_]+-(\d+)$/.exec(node.id);
  return `${kind ? kind.label : node.type} ${number ? number[1] : node.id}`;
}
