// Typing in a settings field: one history entry per field visit, only the edited node redrawn per
// keystroke, and edges that follow a renamed placeholder; leaving the field settles the graph.

import { findNode, followPlaceholderRename, pruneDanglingEdges, updateNodeData } from "../graph.js";
import { rulePlaceholderNames } from "../portrules.js";
import { dropPlan } from "./runbanner.js";

// One keystroke in a settings field: one history entry per field visit, and only that node redrawn.
// A Prompt template's edges stay while it is typed and follow a renamed placeholder (see commitTyping).
export function editField(editor, nodeId, name, value) {
  const { state } = editor;
  if (!state.typing) {
    editor.history.record(state.graph);
    state.typing = true;
    state.typingFrom = state.graph;
  }
  const current = findNode(state.graph, nodeId);
  if (!current) return;
  const kind = state.kinds.get(current.type);
  const data = { ...current.data, [name]: value };
  let graph = updateNodeData(state.graph, nodeId, data, state.catalog, { prune: false });
  const start = state.typingFrom && findNode(state.typingFrom, nodeId);
  // A template whose placeholders are ports: edges follow a renamed placeholder.
  const rule = kind && kind.inputsFrom;
  if (rule && "placeholders" in rule && [].concat(rule.placeholders).includes(name) && start) {
    const before = rulePlaceholderNames(rule, start.data);
    const edges = followPlaceholderRename(state.typingFrom.edges, nodeId, before, rulePlaceholderNames(rule, data));
    if (!sameEdges(edges, graph.edges)) graph = { ...graph, edges };
  }
  state.graph = graph;
  // The server's messages about this field go, those inside it too ("rules[0].value").
  const stale = state.serverErrors[nodeId] || {};
  for (const path of Object.keys(stale)) {
    if (path === name || path.startsWith(`${name}[`) || path.startsWith(`${name}.`)) delete stale[path];
  }
  // A plan no longer holds once the graph changes: the whole canvas drops its badges.
  const planned = Boolean(state.plan);
  dropPlan(editor);
  // A renamed placeholder moves edges: then the whole canvas is redrawn, else only this node.
  editor.refresh({ node: graph.edges === editor.canvas.graph.edges && !planned ? nodeId : null });
}

function sameEdges(a, b) {
  return a.length === b.length && a.every((edge, i) => edge.id === b[i].id && edge.targetHandle === b[i].targetHandle);
}

// The field is left (or the graph is saved or run): edges into placeholders that are really gone go now.
export function commitTyping(editor) {
  const { state } = editor;
  const wasTyping = state.typing;
  state.typing = false;
  state.typingFrom = null;
  if (!wasTyping) return;
  const pruned = pruneDanglingEdges(state.graph, state.catalog);
  if (pruned !== state.graph) {
    state.graph = pruned;
    editor.refresh();
  } else {
    editor.refreshToolbar(); // "Unsaved changes" was assumed while typing: now compare for real
  }
}
