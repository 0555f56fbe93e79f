// Edits to the graph and the selection: each records history, then redraws.

import {
  ConnectionRefused,
  addNode,
  cloneGraph,
  connect,
  copySelection,
  moveNodes,
  pasteFragment,
  removeElements,
} from "../graph.js";
import { removeNote } from "../annotations.js";
import { autoLayout } from "../layout.js";
import { plural } from "../ui.js";
import { nodeLabel, snapshot } from "./model.js";
import { loadPublished } from "./publish.js";
import { dropPlan } from "./runbanner.js";

export function edit(editor, next, { panel = false } = {}) {
  const { state } = editor;
  editor.history.record(state.graph);
  state.typing = false;
  state.graph = next;
  dropPlan(editor);
  editor.refresh({ panel });
}

export function select(editor, selection, additive) {
  const { state } = editor;
  const nodes = additive ? new Set(state.selection.nodes) : new Set();
  const edges = additive ? new Set(state.selection.edges) : new Set();
  for (const id of selection.nodes) {
    if (additive && nodes.has(id) && selection.nodes.length === 1) nodes.delete(id);
    else nodes.add(id);
  }
  for (const id of selection.edges) {
    if (additive && edges.has(id)) edges.delete(id);
    else edges.add(id);
  }
  state.selection = { nodes, edges };
  state.typing = false;
  editor.refresh({ panel: true });
}

export function selectAll(editor) {
  const { state } = editor;
  state.selection = { nodes: new Set(state.graph.nodes.map((node) => node.id)), edges: new Set() };
  editor.refresh({ panel: true });
}

export function addKind(editor, type, position, data = undefined) {
  const { state } = editor;
  const kind = state.kinds.get(type);
  const { graph, node } = addNode(state.graph, { type, position, data }, kind);
  state.selection = { nodes: new Set([node.id]), edges: new Set() };
  edit(editor, graph, { panel: true });
  return node;
}

export function tryConnect(editor, connection) {
  const { state } = editor;
  if (!connection.targetHandle) {
    editor.showMessage(`${nodeLabel(state, connection.target)} has no input to connect to.`);
    return false;
  }
  try {
    const { graph } = connect(state.graph, state.catalog, connection, (id) => nodeLabel(state, id));
    edit(editor, graph);
    return true;
  } catch (error) {
    if (!(error instanceof ConnectionRefused)) throw error;
    editor.showMessage(error.message);
    return false;
  }
}

export function deleteSelection(editor) {
  const { state } = editor;
  const notes = state.selection.notes || new Set();
  if (!state.selection.nodes.size && !state.selection.edges.size && !notes.size) return;
  let next = removeElements(state.graph, {
    nodeIds: [...state.selection.nodes],
    edgeIds: [...state.selection.edges],
  });
  for (const noteId of notes) next = removeNote(next, noteId);
  state.selection = { nodes: new Set(), edges: new Set() };
  edit(editor, next, { panel: true });
}

// Arrow keys move the selected nodes (Shift for bigger steps).
export function nudge(editor, key, step) {
  const { state } = editor;
  const dx = key === "ArrowLeft" ? -step : key === "ArrowRight" ? step : 0;
  const dy = key === "ArrowUp" ? -step : key === "ArrowDown" ? step : 0;
  const positions = {};
  for (const node of state.graph.nodes) {
    if (state.selection.nodes.has(node.id)) positions[node.id] = { x: node.position.x + dx, y: node.position.y + dy };
  }
  edit(editor, moveNodes(state.graph, positions));
}

export function undo(editor) {
  const previous = editor.history.undo(editor.state.graph);
  if (previous) restore(editor, previous);
}

export function redo(editor) {
  const next = editor.history.redo(editor.state.graph);
  if (next) restore(editor, next);
}

function restore(editor, graph) {
  const { state } = editor;
  state.graph = graph;
  state.typing = false;
  dropPlan(editor);
  const ids = new Set(graph.nodes.map((node) => node.id));
  const edgeIds = new Set(graph.edges.map((edge) => edge.id));
  state.selection = {
    nodes: new Set([...state.selection.nodes].filter((id) => ids.has(id))),
    edges: new Set([...state.selection.edges].filter((id) => edgeIds.has(id))),
  };
  editor.refresh({ panel: true });
}

export function copy(editor) {
  const { state } = editor;
  if (!state.selection.nodes.size) return;
  state.clipboard = copySelection(state.graph, [...state.selection.nodes]);
  editor.showMessage(`Copied ${plural(state.clipboard.nodes.length, "node")}.`, "info");
}

export function paste(editor) {
  const { state } = editor;
  if (!state.clipboard || !state.clipboard.nodes.length) return;
  const { graph, nodeIds } = pasteFragment(state.graph, state.clipboard, state.kinds);
  // A second paste lands a step further on instead of on top of the first.
  state.clipboard = {
    ...state.clipboard,
    nodes: state.clipboard.nodes.map((node) => ({ ...node, position: { x: node.position.x + 40, y: node.position.y + 40 } })),
  };
  state.selection = { nodes: new Set(nodeIds), edges: new Set() };
  edit(editor, graph, { panel: true });
}

export function arrange(editor) {
  const { state, canvas } = editor;
  if (!state.graph.nodes.length) return;
  edit(editor, moveNodes(state.graph, autoLayout(state.graph, { sizes: canvas.nodeSizes() })));
  canvas.fit();
  editor.minimap.draw();
}

// The workflow as saved on the server (on start, or restored from a version): nothing left to save.
export function loadWorkflow(editor, workflow) {
  const { state } = editor;
  state.graph = cloneGraph(workflow);
  state.name = workflow.name;
  state.description = workflow.description || "";
  state.version = workflow.version;
  loadPublished(state, workflow);
  state.savedSnapshot = snapshot(state);
}

// A restored version replaces the canvas like any other change, so Undo can bring back what was there.
export function showRestored(editor, workflow) {
  const { state } = editor;
  editor.history.record(state.graph);
  state.typing = false;
  loadWorkflow(editor, workflow);
  state.serverErrors = {};
  state.selection = { nodes: new Set(), edges: new Set() };
  editor.dom("workflow-name").value = state.name;
  editor.refresh({ panel: true });
  if (state.graph.nodes.length) editor.canvas.fit();
}
