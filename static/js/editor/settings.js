// The settings panel: the selected node's form, its Image upload, and its last result.

import { api } from "../api.js";
import { calleeOf, isCaller } from "../callees.js";
import { failedLineOf } from "../codebox.js";
import { renderNodeForm } from "../form.js";
import { findNode, updateNodeData } from "../graph.js";
import { el, statusBadge, toast } from "../ui.js";
import { calleeWidgets } from "./callees.js";
import { agentToolsWidgets } from "./agenttools.js";
import { edit } from "./edits.js";
import { toolWidgets } from "./mcppicker.js";
import { allErrors, onlySelectedNode } from "./model.js";
import { commitTyping, editField } from "./typing.js";

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
      kind.imageSource ? imageUploader(editor, node, kind) : null,
      isCaller(node, state.kinds) && node.data.workflowId ? calleeOpenLink(node) : null,
      outputLink,
      fields,
    ].filter(Boolean),
  );
  const errors = allErrors(state)[node.id] || {};
  editor.form = renderNodeForm(fields, {
    node,
    kind,
    errors,
    skip: kind.imageSource ? [kind.imageSource.upload, kind.imageSource.url] : [],
    custom: {
      ...(isCaller(node, state.kinds) ? calleeWidgets(editor, node) : kind.toolSource ? toolWidgets(editor, node, kind.toolSource) : {}),
      ...agentToolsWidgets(editor, kind),
    },
    models: editor.models,
    onInput: (name, value) => editField(editor, node.id, name, value),
    onCommit: () => commitTyping(editor),
    failedLine: failedLineOf(result),
  });
}

// The picture of a node whose kind holds one (`imageSource`, an Image node's): a thumbnail, a drop zone (or file chooser) to upload one, a URL as an alternative.
function imageUploader(editor, node, kind) {
  const { state } = editor;
  const { upload: uploadField, url: urlField } = kind.imageSource;
  const setImage = (data) => {
    const current = findNode(state.graph, node.id);
    if (!current) return;
    delete state.serverErrors[node.id];
    edit(editor, updateNodeData(state.graph, node.id, { ...current.data, ...data }, state.catalog), { panel: true });
  };
  const upload = async (file) => {
    zone.classList.add("is-busy");
    try {
      const stored = await api.uploadImage(file);
      setImage({ [uploadField]: stored.id, [urlField]: null });
    } catch (error) {
      zone.classList.remove("is-busy");
      toast(`Could not upload ${file.name}: ${error.message}`, "error");
    }
  };
  const input = el("input", { type: "file", accept: editor.boot.imageTypes.join(","), id: "image-upload", class: "visually-hidden", "aria-label": "Upload an image" });
  input.addEventListener("change", () => input.files[0] && upload(input.files[0]));
  const source = node.data[uploadField] ? api.uploadContentUrl(node.data[uploadField]) : node.data[urlField];
  const zone = el("label", { for: "image-upload", class: "drop-zone" },
    source
      ? el("img", { class: "drop-zone__thumb", src: source, alt: "the node's image" })
      : el("span", { class: "drop-zone__icon", "aria-hidden": "true", text: kind.icon }),
    el("span", { class: "drop-zone__text", text: source ? "Drop or choose another image" : "Drop an image here or choose a file" }),
    el("span", { class: "drop-zone__hint", text: imageTypeNames(editor.boot.imageTypes) }),
  );
  zone.addEventListener("dragover", (event) => {
    event.preventDefault();
    zone.classList.add("is-over");
  });
  zone.addEventListener("dragleave", () => zone.classList.remove("is-over"));
  zone.addEventListener("drop", (event) => {
    event.preventDefault();
    event.stopPropagation();
    zone.classList.remove("is-over");
    const file = [...event.dataTransfer.files].find((candidate) => editor.boot.imageTypes.includes(candidate.type));
    if (file) upload(file);
  });
  const url = el("input", { type: "url", class: "input", id: "image-url", placeholder: "https://…", value: node.data[urlField] || "" });
  url.addEventListener("change", () => setImage({ [urlField]: url.value.trim() || null, [uploadField]: url.value.trim() ? null : node.data[uploadField] }));
  const errors = allErrors(state)[node.id] || {};
  const problem = errors[uploadField] || errors[urlField] || "";
  return el("div", { class: "field image-field" },
    input,
    zone,
    el("div", { class: "field__error", id: `field-${node.id}-${uploadField}-error`, role: "alert", text: problem }),
    node.data[uploadField] || node.data[urlField]
      ? el("button", { type: "button", class: "button button--small button--ghost", text: "Remove image", onclick: () => setImage({ [uploadField]: null, [urlField]: null }) })
      : null,
    el("details", { class: "image-field__url", open: Boolean(node.data[urlField]) },
      el("summary", { text: "Use an image URL instead" }),
      el("label", { for: "image-url", class: "visually-hidden", text: "Image URL" }),
      url,
    ),
  );
}


// "PNG, JPEG, WEBP or GIF" from ["image/png", …].
function imageTypeNames(types) {
  const names = types.map((type) => type.replace(/^image\//, "").toUpperCase());
  return names.length > 1 ? `${names.slice(0, -1).join(", ")} or ${names.at(-1)}` : names.join("");
}

// The called workflow, opened in a new tab so the edits here stay.
function calleeOpenLink(node) {
  const callee = calleeOf(node.data);
  return el("p", {},
    el("a", {
      href: `/workflows/${encodeURIComponent(node.data.workflowId)}/`,
      target: "_blank",
      rel: "noopener",
      text: callee ? `Open “${callee.name}” ↗` : "Open the called workflow ↗",
    }));
}
