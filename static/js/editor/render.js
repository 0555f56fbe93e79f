// Drawing the editor from its state: the canvas, the minimap, the toolbar, the settings panel, messages.
// The modules that edit reach these through the editor object (editor.refresh, editor.refreshToolbar,
// editor.showMessage, wired by main.js), and this module reaches the settings panel the same way
// (editor.renderSettings): it imports no module that edits, so none of them imports it back.

import { isActive } from "../runstate.js";
import { el } from "../ui.js";
import { allErrors, isDirty, onlySelectedNode, publishedLabel, runView } from "./model.js";
import { renderOutput } from "./output.js";

// How long a message over the canvas stays: a refusal long enough to read, a note only a glance.
const REFUSAL_SHOWN_MS = 6000;
const NOTE_SHOWN_MS = 2500;

// `node`: only that node's settings changed, so only it is redrawn (typing stays quick on big graphs).
export function refresh(editor, { panel = false, node = null } = {}) {
  const { state, canvas, dom } = editor;
  const errors = allErrors(state);
  const { statuses, results } = runView(state);
  const view = { selection: state.selection, statuses, results, errors };
  if (node) canvas.renderNode(state.graph, node, view);
  else canvas.render(state.graph, view);
  editor.minimap.draw(statuses);
  refreshToolbar(editor);
  if (editor.nodeView) editor.nodeView.update();
  if (panel) {
    editor.renderSettings();
    if (!dom("panel-output").hidden) renderOutput(editor);
  } else if (editor.form) {
    const only = onlySelectedNode(state);
    if (only) editor.form.update(errors[only.id] || {});
  }
}

// The toolbar's buttons and the saved/unsaved state.
export function refreshToolbar(editor) {
  const { state, history, dom } = editor;
  dom("canvas-empty").hidden = state.graph.nodes.length > 0;
  dom("undo").disabled = !history.canUndo;
  dom("redo").disabled = !history.canRedo;
  const selected = state.selection.nodes.size;
  dom("run-selected").disabled = selected === 0 || isActive(state.run);
  setText(dom("run-selected"), selected > 1 ? `Run ${selected} selected` : "Run selected");
  dom("run").disabled = isActive(state.run) || state.graph.nodes.length === 0;
  dom("run-changes").disabled = dom("run").disabled;
  dom("cancel").hidden = !isActive(state.run);
  const dirty = isDirty(state);
  setText(dom("save-state"), dirty ? "Unsaved changes" : `Saved · version ${state.version}`);
  dom("save-state").classList.toggle("is-dirty", dirty);
  setText(dom("publish-state"), publishedLabel(state.publishedVersion, state.version));
}

// Writing the same text again would still cost a layout on every keystroke.
function setText(element, text) {
  if (element.textContent !== text) element.textContent = text;
}

// A short message over the canvas, under the run banner (never over it); a new one replaces the old, a
// click dismisses it. Notes go quickly, refusals stay long enough to read.
export function showMessage(editor, text, kind = "error") {
  const box = editor.dom("canvas-message");
  box.replaceChildren(
    el("span", { text }),
    el("button", { type: "button", class: "canvas__message-close", "aria-label": "Dismiss", text: "×", onclick: () => (box.hidden = true) }),
  );
  box.className = `canvas__overlay canvas__message canvas__message--${kind}`;
  box.hidden = false;
  clearTimeout(editor.messageTimer);
  editor.messageTimer = setTimeout(() => {
    box.hidden = true;
  }, kind === "error" ? REFUSAL_SHOWN_MS : NOTE_SHOWN_MS);
}
