// The ports of a node: its kind's fixed ports and those its catalog entry's rules derive from the node's data,
// evaluated as engine/kinds/rules.py evaluates them for the engine (see there for the rule shapes). No DOM here.

import { interfaceOf, itemInput } from "./callees.js";

const PLACEHOLDER = /\{\{(.*?)\}\}/gs;
export const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;

// Placeholder names of a template, in order of first appearance (the engine's rule).
export function placeholderNames(template) {
  const names = [];
  for (const match of String(template || "").matchAll(PLACEHOLDER)) {
    const name = match[1].trim();
    if (NAME.test(name) && !names.includes(name)) names.push(name);
  }
  return names;
}

// The placeholder names of a `placeholders` rule's fields: a text field's, each text in the rows of a field
// holding rows (a list of objects), or each text value of a field holding an object, in order, without repeats
// (the engine's rule).
export function rulePlaceholderNames(rule, data) {
  const texts = [];
  for (const field of [].concat(rule.placeholders)) {
    const value = data[field];
    if (typeof value === "string") texts.push(value);
    else if (Array.isArray(value)) {
      for (const row of value.filter(isObject)) texts.push(...Object.values(row).filter((text) => typeof text === "string"));
    } else if (isObject(value)) {
      texts.push(...Object.values(value).filter((text) => typeof text === "string"));
    }
  }
  return [...new Set(texts.flatMap(placeholderNames))];
}

// The rules a kind's catalog entry declares for ports that follow a node's data, evaluated as
// engine/kinds/rules.py evaluates them for the engine (see there for the rule shapes).

function isObject(value) {
  return value !== null && typeof value === "object" && !Array.isArray(value);
}

// Whether a rule's condition holds for a node's data.
export function holds(condition, data) {
  if (Array.isArray(condition)) return condition.every((part) => holds(part, data));
  const value = (data || {})[condition.field];
  if ("notNull" in condition) return (value !== null && value !== undefined) === Boolean(condition.notNull);
  if ("notEmpty" in condition) {
    const empty = value === null || value === undefined
      || ((typeof value === "string" || Array.isArray(value)) && value.length === 0)
      || (isObject(value) && Object.keys(value).length === 0);
    return empty !== Boolean(condition.notEmpty);
  }
  if ("equals" in condition) return value === condition.equals;
  throw new Error(`unknown condition ${JSON.stringify(condition)}`);
}

function portType(rule, data) {
  const value = data[rule.field];
  return typeof value === "string" && rule.oneOf.includes(value) ? value : rule.else;
}

// A kind's listed ports as a node with this data has them: those whose `when` holds, typed by `typeFrom`.
function resolvePorts(ports, data) {
  if (!ports.some((port) => port.when || port.typeFrom)) return ports; // most kinds: the listed ports as they are
  return ports
    .filter((port) => !port.when || holds(port.when, data))
    .map((port) => (port.typeFrom ? { ...port, type: portType(port.typeFrom, data) } : port));
}

// The ports an `inputsFrom` / `outputsFrom` rule adds: one per placeholder of a template, one per name of a list, or one per entry of
// the interface of the workflow a node calls (less the input its items feed, when `leaveOut` names that choice).
function rulePorts(rule, data) {
  if ("placeholders" in rule) {
    return rulePlaceholderNames(rule, data).map((name) => ({ name, type: rule.type, required: Boolean(rule.required), multiple: false }));
  }
  if ("names" in rule) {
    const names = Array.isArray(data[rule.names]) ? data[rule.names].filter((name) => typeof name === "string" && NAME.test(name)) : [];
    return [...new Set(names)].map((name) => ({ name, type: rule.type, required: false, multiple: false }));
  }
  if ("interface" in rule) {
    const found = interfaceOf(data, rule.interface);
    if (!found) return [];
    const specs = Array.isArray(found[rule.side]) ? found[rule.side].filter((spec) => isObject(spec) && spec.name) : [];
    if (rule.side === "outputs") return specs.map((spec) => ({ name: String(spec.name), type: rule.type }));
    const leaveOut = rule.leaveOut ? itemInput(data, rule.leaveOut, rule.interface).name : null;
    return specs
      .filter((spec) => spec.name !== leaveOut)
      .map((spec) => ({
        name: String(spec.name),
        type: rule.typeOneOf.includes(spec.type) ? spec.type : rule.typeElse,
        required: Boolean(spec.required),
        multiple: false,
      }));
  }
  throw new Error(`unknown port rule ${JSON.stringify(rule)}`);
}

export function inputPorts(node, kind) {
  if (!kind) return [];
  const data = node.data || {};
  const ports = resolvePorts(kind.inputs || [], data);
  return kind.inputsFrom ? [...ports, ...rulePorts(kind.inputsFrom, data)] : ports;
}

export function outputPorts(node, kind) {
  if (!kind) return [];
  const data = node.data || {};
  const ports = resolvePorts(kind.outputs || [], data);
  return kind.outputsFrom ? [...ports, ...rulePorts(kind.outputsFrom, data)] : ports;
}
