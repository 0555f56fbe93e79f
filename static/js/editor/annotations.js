// Sticky notes and groups in the editor: adding them (palette button, canvas menu, N; Ctrl+G groups the
// selection), their menus (colour, edit, delete; rename, select, ungroup), and what the canvas's note and group
// gestures ask for. Each change is an edit, so Undo takes it back and Save stores it.

import { NOTE_COLORS, NOTE_SIZE, addNote, groupNodes, removeNote, ungroup, updateGroup, updateNote } from "../annotations.js";
import { editNote } from "../canvas-annotations.js";
import { promptDialog } from "../ui.js";
import { edit, select } from "./edits.js";
import { showMenu } from "./menu.js";
import { freeSpot } from "./placement.js";

const COLOR_NAMES = { yellow: "Yellow", blue: "Blue", green: "Green", pink: "Pink", grey: "Grey" };

// A new empty note at `at` (world; default: the free spot nearest the middle of what is in view, shown),
// opened for typing.
export function addStickyNote(editor, at = null) {
  const { canvas } = editor;
  let position = at;
  if (!position) {
    const area = canvas.clearArea();
    const origin = canvas.root.getBoundingClientRect();
    const middle = canvas.clientToWorld(origin.left + area.x + area.width / 2, origin.top + area.y + area.height / 2);
    const wanted = { x: middle.x - NOTE_SIZE.width / 2, y: middle.y - NOTE_SIZE.height / 2 };
    position = freeSpot([...canvas.nodeRects(), ...canvas.noteRects()], wanted, NOTE_SIZE);
  }
  const { graph, note } = addNote(editor.state.graph, { position });
  editor.state.selection = { nodes: new Set(), edges: new Set(), notes: new Set([note.id]) };
  edit(editor, graph, { panel: true });
  if (!at) canvas.reveal({ ...note.position, width: note.width, height: note.height });
  const element = canvas.annotationLayer.querySelector(`[data-note="${CSS.escape(note.id)}"]`);
  if (element) editNote(canvas, element);
  return note;
}

// What the canvas reports of a note: new fields (moved, resized, its text), or null when an edit was dropped.
export function changeNote(editor, noteId, fields) {
  if (!fields) {
    editor.refresh();
    return;
  }
  edit(editor, updateNote(editor.state.graph, noteId, fields));
}

export function selectNote(editor, noteId) {
  editor.state.selection = { nodes: new Set(), edges: new Set(), notes: new Set([noteId]) };
  editor.state.typing = false;
  editor.refresh({ panel: true });
}

export function deleteNotes(editor, noteIds) {
  let graph = editor.state.graph;
  for (const id of noteIds) graph = removeNote(graph, id);
  editor.state.selection = { nodes: new Set(), edges: new Set() };
  edit(editor, graph, { panel: true });
}

// Ctrl+G: a group around the selected nodes, its title asked for at once.
export async function groupSelection(editor) {
  const ids = [...editor.state.selection.nodes];
  if (!ids.length) {
    editor.showMessage("Select the nodes to group first (Shift-drag the background, or Shift-click them).", "info");
    return;
  }
  const { graph, group } = groupNodes(editor.state.graph, ids, "Group");
  edit(editor, graph);
  await renameGroup(editor, group.id);
}

export async function renameGroup(editor, groupId) {
  const group = (editor.state.graph.groups || []).find((candidate) => candidate.id === groupId);
  if (!group) return;
  const title = await promptDialog("Rename group", "Title", group.title, "Rename");
  if (title === null || title === group.title) return;
  edit(editor, updateGroup(editor.state.graph, groupId, { title: title.slice(0, 200) }));
}

export function noteMenu(editor, noteId, where) {
  const note = (editor.state.graph.notes || []).find((candidate) => candidate.id === noteId);
  if (!note) return;
  selectNote(editor, noteId);
  showMenu([
    {
      label: "Edit text",
      run: () => {
        const element = editor.canvas.annotationLayer.querySelector(`[data-note="${CSS.escape(noteId)}"]`);
        if (element) editNote(editor.canvas, element);
      },
    },
    null,
    ...NOTE_COLORS.map((color) => ({
      label: `${note.color === color ? "✓ " : ""}${COLOR_NAMES[color]}`,
      run: () => edit(editor, updateNote(editor.state.graph, noteId, { color })),
    })),
    null,
    { label: "Delete note", shortcut: "Del", keys: "Delete", danger: true, run: () => deleteNotes(editor, [noteId]) },
  ], where, "Note actions");
}

export function groupMenu(editor, groupId, where) {
  const group = (editor.state.graph.groups || []).find((candidate) => candidate.id === groupId);
  if (!group) return;
  showMenu([
    { label: "Rename group…", run: () => renameGroup(editor, groupId) },
    { label: "Select its nodes", run: () => select(editor, { nodes: group.nodes, edges: [] }, false) },
    ...NOTE_COLORS.map((color) => ({
      label: `${group.color === color ? "✓ " : ""}${COLOR_NAMES[color]} frame`,
      run: () => edit(editor, updateGroup(editor.state.graph, groupId, { color })),
    })),
    null,
    { label: "Ungroup", shortcut: "Ctrl+Shift+G", keys: "Control+Shift+G", run: () => edit(editor, ungroup(editor.state.graph, groupId)) },
  ], where, `Actions for group ${group.title}`);
}

// Ctrl+Shift+G: the groups of the selected nodes go (the nodes stay).
export function ungroupSelection(editor) {
  const ids = editor.state.selection.nodes;
  const groups = (editor.state.graph.groups || []).filter((group) => group.nodes.some((id) => ids.has(id)));
  if (!groups.length) return;
  let graph = editor.state.graph;
  for (const group of groups) graph = ungroup(graph, group.id);
  edit(editor, graph);
}
