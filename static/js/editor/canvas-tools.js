// Canvas shortcuts the peers have: Ctrl+K finds a node by name, Tab (or a double-click on empty canvas) adds
// one through the node picker, F zooms to the selection (everything when nothing is selected), Shift+1 fits
// the whole graph, G turns Snap to grid on and off (remembered in this browser), N adds a sticky note, Ctrl+G
// groups the selection (Ctrl+Shift+G ungroups), ? lists them all; and the align / distribute commands.

import { GRID_SIZE } from "../canvas.js";
import { moveNodes } from "../graph.js";
import { nodeName } from "../kinds.js";
import { READABLE_ZOOM } from "../viewport.js";
import { el } from "../ui.js";
import { addStickyNote, groupSelection, ungroupSelection } from "./annotations.js";
import { addKind, edit, select } from "./edits.js";
import { closePopup, showPopup } from "./menu.js";
import { showNodePicker } from "./pickers.js";

const MARGIN = 60;
const SNAP_KEY = "weft.snap-to-grid";

export function snapOn(storage = window.localStorage) {
  return storage.getItem(SNAP_KEY) === "on";
}

// Moved positions rounded to the canvas grid: {nodeId: {x, y}}.
export function snapped(positions, grid = GRID_SIZE) {
  return Object.fromEntries(
    Object.entries(positions).map(([id, { x, y }]) => [id, { x: Math.round(x / grid) * grid, y: Math.round(y / grid) * grid }]),
  );
}

// What a drag's end moves the nodes to: where they were dropped, or the nearest grid points with snapping on.
export function dropPositions(positions, storage = window.localStorage) {
  return snapOn(storage) ? snapped(positions) : positions;
}

export function toggleSnap(editor, storage = window.localStorage) {
  const on = !snapOn(storage);
  storage.setItem(SNAP_KEY, on ? "on" : "off");
  editor.showMessage(on ? "Snap to grid is on (G turns it off)." : "Snap to grid is off.", "info");
}

// The nodes whose name or kind contains every typed word, best first (a name that starts with it first).
export function findNodes(graph, kinds, query) {
  const words = query.trim().toLowerCase().split(/\s+/).filter(Boolean);
  const named = graph.nodes.map((node) => {
    const kind = kinds.get(node.type);
    return { node, name: nodeName(node, kind), text: `${nodeName(node, kind)} ${kind ? kind.label : node.type}`.toLowerCase() };
  });
  const found = named.filter(({ text }) => words.every((word) => text.includes(word)));
  const first = words[0] || "";
  return found.sort((a, b) => Number(!a.name.toLowerCase().startsWith(first)) - Number(!b.name.toLowerCase().startsWith(first)));
}

// Positions that line the nodes of `rects` up along `edge` ("left", "top") or spread them evenly along
// `axis` ("x", "y") between the outermost two: {nodeId: {x, y}}.
export function alignedPositions(rects, edge) {
  const key = edge === "left" ? "x" : "y";
  const line = Math.min(...rects.map((rect) => rect[key]));
  return Object.fromEntries(rects.map((rect) => [rect.id, { x: rect.x, y: rect.y, [key]: line }]));
}

export function distributedPositions(rects, axis) {
  const size = axis === "x" ? "width" : "height";
  const sorted = [...rects].sort((a, b) => a[axis] - b[axis]);
  const first = sorted[0];
  const last = sorted[sorted.length - 1];
  const used = sorted.reduce((sum, rect) => sum + rect[size], 0);
  const gap = (last[axis] + last[size] - first[axis] - used) / Math.max(1, sorted.length - 1);
  let at = first[axis];
  const positions = {};
  for (const rect of sorted) {
    positions[rect.id] = { x: rect.x, y: rect.y, [axis]: Math.round(at) };
    at += rect[size] + gap;
  }
  return positions;
}

function selectedRects(editor) {
  const ids = editor.state.selection.nodes;
  return editor.canvas.nodeRects().filter((rect) => ids.has(rect.id));
}

// The menu items that arrange a selection of two or more nodes (the node context menu lists them).
export function arrangeItems(editor) {
  const rects = selectedRects(editor);
  if (rects.length < 2) return [];
  const move = (positions) => edit(editor, moveNodes(editor.state.graph, positions));
  return [
    { label: "Align left edges", run: () => move(alignedPositions(rects, "left")) },
    { label: "Align top edges", run: () => move(alignedPositions(rects, "top")) },
    { label: "Distribute horizontally", disabled: rects.length < 3, run: () => move(distributedPositions(rects, "x")) },
    { label: "Distribute vertically", disabled: rects.length < 3, run: () => move(distributedPositions(rects, "y")) },
  ];
}

// Zooms to the selected nodes, or to every node when none is selected.
export function zoomToSelection(editor) {
  const { canvas } = editor;
  const chosen = selectedRects(editor);
  const rects = chosen.length ? chosen : canvas.nodeRects();
  if (!rects.length) return;
  canvas.fitTo(rects, MARGIN, READABLE_ZOOM);
}

function focusNode(editor, node) {
  select(editor, { nodes: [node.id], edges: [] }, false);
  zoomToSelection(editor);
}

// Ctrl+K: a search box over the nodes; Enter (or a click) selects the first match and brings it into view.
export function showFindNode(editor) {
  const { state } = editor;
  const search = el("input", { type: "search", class: "input", placeholder: "Node name or kind", "aria-label": "Find a node" });
  const list = el("ul", { class: "picker__list", role: "listbox", "aria-label": "Nodes" });
  const pick = (node) => {
    closePopup();
    focusNode(editor, node);
  };
  const show = () => {
    const found = findNodes(state.graph, state.kinds, search.value);
    list.replaceChildren(...(found.length
      ? found.slice(0, 50).map(({ node, name }) =>
          el("li", {}, el("button", { type: "button", role: "option", class: "picker__item", dataset: { node: node.id }, onclick: () => pick(node) },
            el("strong", { text: name }), el("span", { class: "picker__description", text: (state.kinds.get(node.type) || {}).label || node.type }))))
      : [el("li", { class: "muted picker__none", text: "No node matches." })]));
    return found;
  };
  search.addEventListener("input", show);
  search.addEventListener("keydown", (event) => {
    if (event.key !== "Enter") return;
    event.preventDefault();
    const [first] = show();
    if (first) pick(first.node);
  });
  const popup = el("div", { class: "popup picker", role: "dialog", "aria-label": "Find a node" },
    el("div", { class: "picker__title", text: "Find a node (Ctrl+K)" }), search, list);
  show();
  const box = editor.dom("canvas").getBoundingClientRect();
  showPopup(popup, { clientX: box.left + box.width / 2 - 160, clientY: box.top + 24 });
  search.focus({ preventScroll: true });
}

// Quick add: the node picker at `where` (client point; default the middle of the canvas), adding there.
export function quickAdd(editor, where = null) {
  const box = editor.dom("canvas").getBoundingClientRect();
  const point = where || { clientX: box.left + box.width / 2, clientY: box.top + box.height / 2 };
  const at = editor.canvas.clientToWorld(point.clientX, point.clientY);
  showNodePicker(editor, { where: point, at, onPick: (kind) => addKind(editor, kind.type, { x: at.x - 20, y: at.y - 16 }) });
}

function typing(event) {
  return Boolean(event.target.closest && event.target.closest("input, textarea, select, [contenteditable]"));
}

// Every shortcut of the editor, as the ? list shows them (the menus show each beside its command).
export const SHORTCUTS = [
  ["Ctrl+K", "Find a node by name"],
  ["Tab / double-click", "Add a node where you are"],
  ["N", "Add a sticky note"],
  ["Ctrl+G / Ctrl+Shift+G", "Group the selection / ungroup it"],
  ["F", "Zoom to the selection"],
  ["Shift+1", "Fit the whole graph"],
  ["G", "Snap to grid on or off"],
  ["Enter / double-click", "Open the selected node (input, settings, output)"],
  ["Ctrl+C / Ctrl+V", "Copy and paste nodes"],
  ["Ctrl+A", "Select every node"],
  ["Delete", "Delete the selection"],
  ["Arrows (Shift: further)", "Move the selection"],
  ["Ctrl+Z / Ctrl+Shift+Z", "Undo / redo"],
  ["Ctrl+S", "Save"],
  ["Escape", "Clear the selection"],
];

export function showShortcuts(editor) {
  const popup = el("div", { class: "popup shortcuts", role: "dialog", "aria-label": "Keyboard shortcuts" },
    el("div", { class: "picker__title", text: "Keyboard shortcuts" }),
    el("dl", { class: "shortcuts__list" },
      SHORTCUTS.flatMap(([keys, what]) => [el("dt", {}, el("kbd", { text: keys })), el("dd", { text: what })])));
  const box = editor.dom("canvas").getBoundingClientRect();
  showPopup(popup, { clientX: box.left + 24, clientY: box.top + 24 });
}

// Wires the shortcuts and the double-click on empty canvas; listens before the editor's own keys.
export function setupCanvasTools(editor) {
  document.addEventListener("keydown", (event) => {
    if (document.querySelector("dialog[open], .popup")) return;
    const mod = event.ctrlKey || event.metaKey;
    if (mod && event.key.toLowerCase() === "k") {
      event.preventDefault();
      showFindNode(editor);
    } else if (typing(event) || event.altKey) {
      return;
    } else if (mod && event.key.toLowerCase() === "g") {
      event.preventDefault();
      if (event.shiftKey) ungroupSelection(editor);
      else groupSelection(editor);
    } else if (mod) {
      return;
    } else if (event.key === "Tab" && !event.shiftKey && event.target.closest("#canvas")) {
      event.preventDefault();
      quickAdd(editor);
    } else if (event.key === "f" || event.key === "F") {
      event.preventDefault();
      zoomToSelection(editor);
    } else if (event.key === "g" || event.key === "G") {
      event.preventDefault();
      toggleSnap(editor);
    } else if (event.shiftKey && event.code === "Digit1") {
      event.preventDefault();
      editor.canvas.fit({ whole: true });
    } else if (event.key === "n" || event.key === "N") {
      event.preventDefault();
      addStickyNote(editor);
    } else if (event.key === "?") {
      event.preventDefault();
      showShortcuts(editor);
    }
  });
  editor.dom("canvas").addEventListener("dblclick", (event) => {
    if (event.target.closest(".node, .canvas__overlay, .edge, .sticky-note, .group-frame__title")) return;
    quickAdd(editor, { clientX: event.clientX, clientY: event.clientY });
  });
}
