// Right-click menus on nodes, edges and the canvas, and double-click to open a node's settings.

import { removeElements, setDisabled } from "../graph.js";
import { groupOf } from "../annotations.js";
import { addStickyNote, groupMenu, groupSelection, noteMenu, ungroupSelection } from "./annotations.js";
import { arrangeItems, showFindNode, showShortcuts, snapOn, toggleSnap, zoomToSelection } from "./canvas-tools.js";
import { addKind, arrange, copy, edit, paste, select, selectAll } from "./edits.js";
import { showMenu } from "./menu.js";
import { nodeLabel } from "./model.js";
import { setPanel } from "./panels.js";
import { showNodePicker } from "./pickers.js";
import { startRun } from "./runs.js";
import { isActive } from "../runstate.js";

// Select the node and show its settings (opening the panel if it was closed).
export function openSettings(editor, nodeId) {
  select(editor, { nodes: [nodeId], edges: [] }, false);
  setPanel(editor, "details", true);
  editor.dom("tab-settings").click();
}

export function deleteEdge(editor, edgeId) {
  editor.state.selection = { nodes: new Set(editor.state.selection.nodes), edges: new Set() };
  edit(editor, removeElements(editor.state.graph, { edgeIds: [edgeId] }), { panel: true });
}

// The node and everything downstream of it.
export function downstreamOf(graph, nodeId) {
  const found = new Set([nodeId]);
  const stack = [nodeId];
  while (stack.length) {
    const id = stack.pop();
    for (const edge of graph.edges) {
      if (edge.source === id && !found.has(edge.target)) {
        found.add(edge.target);
        stack.push(edge.target);
      }
    }
  }
  return [...found];
}

export function showContextMenu(editor, target) {
  const { state } = editor;
  const where = { clientX: target.clientX, clientY: target.clientY };
  const running = isActive(state.run);
  if (target.kind === "node") {
    const id = target.id;
    if (!state.selection.nodes.has(id)) select(editor, { nodes: [id], edges: [] }, false);
    const several = state.selection.nodes.size > 1;
    const chosen = [...state.selection.nodes];
    // Enable only when every chosen node is disabled; a mixed choice is disabled as a whole.
    const enable = chosen.every((nodeId) => state.graph.nodes.find((n) => n.id === nodeId)?.data.disabled === true);
    const count = several ? ` ${chosen.length} nodes` : "";
    const grouped = chosen.some((nodeId) => groupOf(state.graph, nodeId));
    showMenu([
      { label: "Open settings", run: () => openSettings(editor, id) },
      { label: "Run this node", disabled: running, run: () => startRun(editor, "node", [id]) },
      { label: "Run from here", disabled: running, run: () => startRun(editor, "selection", downstreamOf(state.graph, id)) },
      null,
      { label: several ? `Duplicate ${state.selection.nodes.size} nodes` : "Duplicate", run: () => { copy(editor); paste(editor); } },
      { label: "Copy", shortcut: "Ctrl+C", keys: "Control+C", run: () => copy(editor) },
      { label: `${enable ? "Enable" : "Disable"}${count}`, run: () => edit(editor, setDisabled(state.graph, chosen, !enable), { panel: true }) },
      ...(several ? [null, ...arrangeItems(editor)] : []),
      null,
      { label: several ? `Group ${chosen.length} nodes…` : "Group…", shortcut: "Ctrl+G", keys: "Control+G", run: () => groupSelection(editor) },
      ...(grouped ? [{ label: "Ungroup", shortcut: "Ctrl+Shift+G", keys: "Control+Shift+G", run: () => ungroupSelection(editor) }] : []),
      { label: "Zoom to selection", shortcut: "F", keys: "F", run: () => zoomToSelection(editor) },
      null,
      { label: several ? `Delete ${state.selection.nodes.size} nodes` : "Delete", shortcut: "Del", keys: "Delete", danger: true, run: () => deleteNodes(editor) },
    ], where, `Actions for ${nodeLabel(state, id)}`);
  } else if (target.kind === "note") {
    noteMenu(editor, target.id, where);
  } else if (target.kind === "group") {
    groupMenu(editor, target.id, where);
  } else if (target.kind === "edge") {
    select(editor, { nodes: [], edges: [target.id] }, false);
    showMenu([{ label: "Delete connection", danger: true, run: () => deleteEdge(editor, target.id) }], where, "Connection actions");
  } else {
    showMenu([
      {
        label: "Add node…",
        shortcut: "Tab",
        run: () => showNodePicker(editor, { where, at: target.at, onPick: (kind) => addKind(editor, kind.type, target.at) }),
      },
      { label: "Add sticky note", shortcut: "N", keys: "N", run: () => addStickyNote(editor, { x: target.at.x, y: target.at.y }) },
      { label: "Paste", shortcut: "Ctrl+V", keys: "Control+V", disabled: !state.clipboard, run: () => paste(editor) },
      { label: "Select all", shortcut: "Ctrl+A", keys: "Control+A", disabled: !state.graph.nodes.length, run: () => selectAll(editor) },
      { label: "Find a node…", shortcut: "Ctrl+K", keys: "Control+K", disabled: !state.graph.nodes.length, run: () => showFindNode(editor) },
      null,
      { label: "Arrange", disabled: !state.graph.nodes.length, run: () => arrange(editor) },
      { label: "Fit to view", shortcut: "Shift+1", keys: "Shift+1", disabled: !state.graph.nodes.length, run: () => editor.canvas.fit({ whole: true }) },
      { label: "Zoom to selection", shortcut: "F", keys: "F", disabled: !state.selection.nodes.size, run: () => zoomToSelection(editor) },
      { label: `${snapOn() ? "✓ " : ""}Snap to grid`, shortcut: "G", keys: "G", run: () => toggleSnap(editor) },
      null,
      { label: "Keyboard shortcuts", shortcut: "?", keys: "?", run: () => showShortcuts(editor) },
    ], where, "Canvas actions");
  }
}

function deleteNodes(editor) {
  const { state } = editor;
  const next = removeElements(state.graph, { nodeIds: [...state.selection.nodes] });
  state.selection = { nodes: new Set(), edges: new Set() };
  edit(editor, next, { panel: true });
}
