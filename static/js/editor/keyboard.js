// The editor's keyboard shortcuts.

import { copy, deleteSelection, nudge, paste, redo, select, selectAll, undo } from "./edits.js";
import { save } from "./saving.js";

export function handleKey(editor, event) {
  const inField = event.target.closest("input, textarea, select, [contenteditable]");
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === "s") {
    event.preventDefault();
    save(editor);
    return;
  }
  if (inField || document.querySelector("dialog[open]")) return;
  if (mod && key === "z" && event.shiftKey) redo(editor);
  else if (mod && key === "z") undo(editor);
  else if (mod && key === "y") redo(editor);
  else if (mod && key === "c") copy(editor);
  else if (mod && key === "v") paste(editor);
  else if (mod && key === "a") selectAll(editor);
  else if (event.key === "Delete" || event.key === "Backspace") deleteSelection(editor);
  else if (event.key.startsWith("Arrow") && editor.state.selection.nodes.size) nudge(editor, event.key, event.shiftKey ? 50 : 10);
  else if (event.key === "Escape") select(editor, { nodes: [], edges: [] }, false);
  else return;
  event.preventDefault();
}
