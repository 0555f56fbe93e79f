// The node view (double-click a node, or select it and press Enter): what it last received, its settings and
// what it produced, side by side as n8n shows them; on a phone one column at a time. A field of the input
// dragged into a template field inserts its placeholder (`{{topic}}`); into any other text field, its JSONPath
// (`$.label`), as an Extract's path or a Condition's value takes it.

import { nodeName } from "../kinds.js";
import { inputPorts } from "../portrules.js";
import { resultNote } from "../runstate.js";
import { el, statusBadge } from "../ui.js";
import { select } from "./edits.js";
import { onlySelectedNode } from "./model.js";
import { valueView } from "./output.js";

const DRAG_TYPE = "application/x-weft-field";

// The JSONPath of `keys` inside a port's value: `$`, `$.label`, `$.items[0]`, `$['odd key']`.
export function jsonPath(keys) {
  return keys.reduce((path, key) => {
    if (typeof key === "number") return `${path}[${key}]`;
    return /^[A-Za-z_][A-Za-z0-9_]*$/.test(key) ? `${path}.${key}` : `${path}['${key.replaceAll("'", "\\'")}']`;
  }, "$");
}

// The fields of a kind whose `{{name}}` placeholders become its input ports (from the catalog's rule).
export function templateFields(kind) {
  const placeholders = kind && kind.inputsFrom && kind.inputsFrom.placeholders;
  if (!placeholders) return [];
  return Array.isArray(placeholders) ? placeholders : [placeholders];
}

// What a dragged input field becomes when dropped on the form field `fieldName` of `kind`.
export function dropText(kind, fieldName, dragged) {
  return templateFields(kind).includes(fieldName) ? `{{${dragged.port}}}` : jsonPath(dragged.keys);
}

// A value as a tree whose every key can be dragged; leaves show the value itself.
function fieldTree(port, value, keys = []) {
  const label = keys.length ? String(keys[keys.length - 1]) : port;
  const handle = el("span", {
    class: "nodeview__field",
    draggable: "true",
    title: `Drag into a field: ${keys.length ? jsonPath(keys) : `{{${port}}}`}`,
    text: label,
  });
  handle.addEventListener("dragstart", (event) => {
    event.dataTransfer.setData(DRAG_TYPE, JSON.stringify({ port, keys }));
    event.dataTransfer.setData("text/plain", keys.length ? jsonPath(keys) : `{{${port}}}`);
    event.dataTransfer.effectAllowed = "copy";
  });
  if (value !== null && typeof value === "object" && !valueIsImage(value)) {
    const entries = Array.isArray(value) ? value.slice(0, 50).map((item, index) => [index, item]) : Object.entries(value).slice(0, 100);
    return el("li", { class: "nodeview__branch" }, handle,
      el("ul", { class: "nodeview__tree" }, entries.map(([key, item]) => fieldTree(port, item, [...keys, key]))));
  }
  return el("li", { class: "nodeview__leaf" }, handle, value === undefined ? null : valueView(value));
}

function valueIsImage(value) {
  return typeof value.uploadId === "string" || ("url" in value && ("uploadId" in value || "mimeType" in value));
}

function inputColumn(node, kind, result) {
  const ports = inputPorts(node, kind).map((port) => port.name);
  const received = (result && result.inputs) || {};
  const names = [...new Set([...ports, ...Object.keys(received)])];
  if (!names.length) return [el("p", { class: "muted", text: "This node has no inputs." })];
  const note = result ? null : el("p", { class: "muted", text: "No run shown yet: its ports are listed, their values appear after a run." });
  return [note, el("ul", { class: "nodeview__tree" }, names.map((name) => fieldTree(name, received[name])))];
}

function outputColumn(run, result) {
  if (!result) {
    const why = run ? "This node has no result in the run shown." : "No run shown yet.";
    return [el("p", { class: "muted", text: why })];
  }
  const note = resultNote(result);
  return [
    el("p", {}, statusBadge(result.status), " ", el("a", { href: `/runs/${run.id}/`, text: "Open the run" })),
    note ? el("pre", { class: `output output--wrap output--${note.kind}`, text: note.text }) : portValues(result.output),
  ];
}

// A result's {port: value} as one block per port, as the Output tab shows it.
function portValues(output) {
  if (output === null || typeof output !== "object" || Array.isArray(output)) return valueView(output ?? null);
  return el("div", { class: "port-values" },
    Object.entries(output).map(([port, value]) =>
      el("section", { class: "port-value" }, el("div", { class: "port-value__name", text: port }), valueView(value))));
}

// Inserts `text` at the caret of `control` (or at its end) as if typed, so the form stores it.
function insertAtCaret(control, text) {
  const start = control.selectionStart ?? control.value.length;
  const end = control.selectionEnd ?? start;
  control.setRangeText(text, start, end, "end");
  control.dispatchEvent(new Event("input", { bubbles: true }));
  control.dispatchEvent(new Event("change", { bubbles: true }));
  control.focus();
}

function acceptFieldDrops(column, kind) {
  column.addEventListener("dragover", (event) => {
    if (event.dataTransfer.types.includes(DRAG_TYPE) && event.target.closest("input[type=text], textarea")) {
      event.preventDefault();
      event.dataTransfer.dropEffect = "copy";
    }
  });
  column.addEventListener("drop", (event) => {
    const control = event.target.closest("input[type=text], textarea");
    const raw = event.dataTransfer.getData(DRAG_TYPE);
    if (!control || !raw) return;
    event.preventDefault();
    insertAtCaret(control, dropText(kind, control.name, JSON.parse(raw)));
  });
}

function column(name, title, children) {
  return el("section", { class: "nodeview__column", dataset: { column: name }, "aria-label": title },
    el("h3", { class: "nodeview__title", text: title }), ...children.filter(Boolean));
}

function fillColumn(section, children) {
  section.replaceChildren(section.querySelector(".nodeview__title"), ...children.filter(Boolean));
}

// The node's result in the run shown, and a key that changes whenever what the view shows of it does.
function shownResult(state, nodeId) {
  const run = state.run;
  const result = run && (run.nodeResults || []).find((candidate) => candidate.nodeId === nodeId);
  return { run, result, key: JSON.stringify([run ? run.id : null, result || null]) };
}

export function openNodeView(editor, nodeId) {
  const { state } = editor;
  const node = state.graph.nodes.find((candidate) => candidate.id === nodeId);
  if (!node) return;
  select(editor, { nodes: [nodeId], edges: [] }, false);
  const kind = state.kinds.get(node.type);
  const { run, result, key } = shownResult(state, node.id);
  // The settings panel itself moves into the view (every edit keeps drawing into it) and back on closing.
  const settings = editor.dom("node-settings");
  const home = settings.parentElement;
  const settingsColumn = column("settings", "Settings", [settings]);
  acceptFieldDrops(settingsColumn, kind);
  const inputSection = column("input", "Input", inputColumn(node, kind, result));
  const outputSection = column("output", "Output", outputColumn(run, result));
  const columns = el("div", { class: "nodeview__columns", dataset: { shown: "settings" } },
    inputSection, settingsColumn, outputSection);
  const switcher = el("div", { class: "nodeview__switch", role: "group", "aria-label": "Column" },
    ["input", "settings", "output"].map((name) =>
      el("button", { type: "button", class: "button button--small", dataset: { show: name }, "aria-pressed": String(name === "settings"),
        text: name[0].toUpperCase() + name.slice(1),
        onclick: () => {
          columns.dataset.shown = name;
          for (const button of switcher.querySelectorAll("button")) button.setAttribute("aria-pressed", String(button.dataset.show === name));
        } })));
  const dialog = el("dialog", { class: "dialog nodeview", "aria-labelledby": "nodeview-title" },
    el("div", { class: "nodeview__head" },
      el("h2", { id: "nodeview-title", text: nodeName(node, kind) }),
      switcher,
      el("button", { type: "button", class: "button button--small", text: "Close", onclick: () => dialog.close() })),
    columns);
  document.body.append(dialog);
  // A run that goes on (or starts) while the view is open: its inputs and output follow the run's events
  // (editor.refresh calls this on each), redrawn only when this node's result changed.
  editor.nodeView = {
    update() {
      const latest = shownResult(state, nodeId);
      if (latest.key === inputSection.dataset.key) return;
      inputSection.dataset.key = latest.key;
      const current = state.graph.nodes.find((candidate) => candidate.id === nodeId) || node;
      fillColumn(inputSection, inputColumn(current, kind, latest.result));
      fillColumn(outputSection, outputColumn(latest.run, latest.result));
    },
  };
  inputSection.dataset.key = key;
  dialog.addEventListener("close", () => {
    editor.nodeView = null;
    home.append(settings);
    dialog.remove();
    editor.refresh({ panel: true });
  });
  dialog.showModal();
  editor.refresh({ panel: true });
}

// Enter opens the selected node, pressed on the canvas or on that node (Enter on another node still selects
// it first). Listens before the canvas does, which would take Enter on a node as "select".
export function openOnEnter(editor, event) {
  if (event.key !== "Enter" || event.ctrlKey || event.metaKey || event.altKey || event.shiftKey) return;
  const only = onlySelectedNode(editor.state);
  if (!only || document.querySelector("dialog[open]")) return;
  const focusedNode = event.target.closest ? event.target.closest(".node") : null;
  const onCanvas = event.target === document.body || event.target === editor.dom("canvas");
  if (focusedNode ? focusedNode.dataset.id !== only.id : !onCanvas) return;
  event.preventDefault();
  event.stopPropagation();
  openNodeView(editor, only.id);
}
