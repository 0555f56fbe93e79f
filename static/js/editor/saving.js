// Saving the workflow: the PUT with its version, its refusals marked on the canvas, conflicts.

import { ApiError, api } from "../api.js";
import { adoptServerCallees } from "../callees.js";
import { choose, promptDialog, toast } from "../ui.js";
import { snapshot } from "./model.js";
import { loadPublished, renderApiPanel } from "./publish.js";
import { applyServerErrors } from "./servererrors.js";
import { commitTyping } from "./typing.js";

// `note` says what changed; the Versions tab shows it beside the version this save makes.
export async function save(editor, { version = editor.state.version, note = "" } = {}) {
  const { state, boot } = editor;
  if (state.saving) return false;
  commitTyping(editor);
  state.saving = true;
  editor.dom("save").disabled = true;
  const sentGraph = state.graph;
  const sentName = state.name;
  try {
    const workflow = await api.updateWorkflow(boot.id, {
      name: state.name,
      description: state.description,
      nodes: state.graph.nodes,
      edges: state.graph.edges,
      notes: state.graph.notes || [],
      groups: state.graph.groups || [],
      version,
      note,
    });
    state.version = workflow.version;
    loadPublished(state, workflow);
    // The server resolved each Sub-workflow and Map node's callee (its content key, and its interface as it
    // is now): what it stored is the truth, here and in what counts as saved.
    const saved = adoptServerCallees(sentGraph, state.kinds, workflow.nodes || []);
    state.graph = state.graph === sentGraph ? saved : adoptServerCallees(state.graph, state.kinds, workflow.nodes || []);
    state.savedSnapshot = snapshot({ name: sentName, graph: saved });
    state.serverErrors = {};
    toast("Saved.", "success", 2500);
    editor.refresh({ panel: saved !== sentGraph && !state.typing });
    if (!editor.dom("panel-versions").hidden) editor.versions.load();
    if (!editor.dom("panel-api").hidden) renderApiPanel(editor);
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409) return await changedElsewhere(editor, error, note);
    if (error.status === 400) applyServerErrors(editor, error);
    else toast(`Could not save: ${error.message}`, "error");
    return false;
  } finally {
    state.saving = false;
    editor.dom("save").disabled = false;
  }
}

export async function saveWithNote(editor) {
  const note = await promptDialog("Save with a note", "What changed (shown in the versions list)", "", "Save");
  if (note === null) return false;
  return save(editor, { note });
}

async function changedElsewhere(editor, error, note) {
  const { state, boot } = editor;
  const current = error.body && error.body.currentVersion;
  const answer = await choose({
    title: "Changed elsewhere",
    message:
      `This workflow was changed elsewhere (now version ${current ?? "?"}; you edited version ${state.version}). ` +
      "Reload to see their version and lose your edits, or overwrite it with yours.",
    buttons: [
      { label: "Cancel", value: "cancel" },
      { label: "Reload", value: "reload" },
      { label: "Overwrite", value: "overwrite", kind: "danger" },
    ],
  });
  if (answer === "reload") {
    state.savedSnapshot = snapshot(state); // leaving on purpose: no unsaved-changes prompt
    window.location.reload();
    return false;
  }
  if (answer === "overwrite") {
    state.saving = false;
    const latest = current ?? (await api.getWorkflow(boot.id)).version;
    return save(editor, { version: latest, note });
  }
  return false;
}
