// The settings panel: the selected node's form, its Image upload, and its last result.

import { api } from "../api.js";
import { renderNodeForm } from "../form.js";
import { findNode, followPlaceholderRename, pruneDanglingEdges, updateNodeData } from "../graph.js";
import { el, statusBadge, toast } from "../ui.js";
import { edit } from "./edits.js";
import { allErrors, onlySelectedNode } from "./model.js";
import { refresh } from "./render.js";

export function renderSettings(editor) {
  const { state } = editor;
  const container = editor.dom("node-settings");
  editor.form = null;
  const node = onlySelectedNode(state);
  if (!node) {
    const count = state.selection.nodes.size;
    container.replaceChildren(
      el("p", { class: "empty" },
        count > 1 ? `${count} nodes selected. Run them, copy them or press Delete.` : "Select a node to edit its settings."),
    );
    return;
  }
  const kind = state.kinds.get(node.type);
  const heading = el("div", { class: "panel__heading" },
    el("h2", { text: kind ? kind.label : node.type }),
    el("code", { class: "muted", text: node.id }),
  );
  if (!kind) {
    container.replaceChildren(heading, el("p", { class: "error", text: `Unknown node type "${node.type}".` }));
    return;
  }
  const fields = el("div", { class: "node-form" });
  const result = state.run && (state.run.nodeResults || []).find((r) => r.nodeId === node.id);
  const outputLink = result
    ? el("p", { class: "result-link" }, statusBadge(result.status), " ",
        el("button", { type: "button", class: "button button--small", text: "See its output", onclick: () => editor.dom("tab-output").click() }))
    : null;
  container.replaceChildren(
    ...[
      heading,
      el("p", { class: "muted", text: kind.description }),
      node.type === "image" ? imageUploader(editor, node) : null,
      outputLink,
      fields,
    ].filter(Boolean),
  );
  const errors = allErrors(state)[node.id] || {};
  editor.form = renderNodeForm(fields, {
    node,
    kind,
    errors,
    onInput: (name, value) => editField(editor, node.id, name, value),
    onCommit: () => commitTyping(editor),
  });
}

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
  if (kind && kind.dynamicInputs && name === "template" && start) {
    const edges = followPlaceholderRename(state.typingFrom.edges, nodeId, start.data.template, value);
    if (!sameEdges(edges, graph.edges)) graph = { nodes: graph.nodes, edges };
  }
  state.graph = graph;
  if (state.serverErrors[nodeId]) delete state.serverErrors[nodeId][name];
  // A renamed placeholder moves edges: then the whole canvas is redrawn, else only this node.
  refresh(editor, { node: graph.edges === editor.canvas.graph.edges ? nodeId : null });
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
    refresh(editor);
  }
}

// An Image node's picture: upload a file (stored as uploadId) and see it.
function imageUploader(editor, node) {
  const { state } = editor;
  const input = el("input", { type: "file", accept: "image/png,image/jpeg,image/webp,image/gif", id: "image-upload" });
  const preview = node.data.uploadId
    ? el("img", { class: "result-image", src: api.uploadContentUrl(node.data.uploadId), alt: "the node's image" })
    : node.data.url
      ? el("img", { class: "result-image", src: node.data.url, alt: "the node's image" })
      : null;
  input.addEventListener("change", async () => {
    const [file] = input.files;
    if (!file) return;
    try {
      const upload = await api.uploadImage(file);
      const current = findNode(state.graph, node.id);
      if (!current) return;
      delete state.serverErrors[node.id];
      edit(editor, updateNodeData(state.graph, node.id, { ...current.data, uploadId: upload.id, url: null }, state.catalog), {
        panel: true,
      });
    } catch (error) {
      toast(`Could not upload ${file.name}: ${error.message}`, "error");
    }
  });
  return el("div", { class: "field" }, el("label", { for: "image-upload", text: "Upload an image" }), input, preview);
}
