// Sub-workflow and Map nodes in the editor: the user's workflows to pick from, the workflow and version
// selects, and the callee's interface fetched on a pick so the node's ports follow at once.

import { api } from "../api.js";
import {
  calleeOf,
  isCaller,
  itemInputChoices,
  itemInputField,
  provisionalCallee,
  staleCallers,
  versionChoices,
  workflowChoices,
} from "../callees.js";
import { choiceWidget } from "../form.js";
import { findNode, graphInterface, updateNodeData } from "../graph.js";
import { toast } from "../ui.js";
import { edit } from "./edits.js";
import { onlySelectedNode } from "./model.js";

const PAGE_LIMIT = 100; // the API's largest page

// Every workflow of the user ({id, name, version, publishedVersion}) into state.workflows, then the canvas
// and the open form are redrawn with what follows (a deleted or unpublished callee is marked).
export async function loadCallableWorkflows(editor) {
  const workflows = [];
  try {
    for (let page = 1; ; page++) {
      const answer = await api.listWorkflows({ page, limit: PAGE_LIMIT });
      for (const workflow of answer.results) {
        const { id, name, version, publishedVersion } = workflow;
        workflows.push({ id, name, version, publishedVersion });
      }
      if (!answer.next) break;
    }
  } catch (error) {
    toast(`Could not list your workflows: ${error.message}`, "error");
    return;
  }
  const { state } = editor;
  editor.calleeVersions = new Map(); // versions may have been saved meanwhile
  if (JSON.stringify(workflows) === JSON.stringify(state.workflows)) return;
  state.workflows = workflows;
  // Only caller nodes read the list: a graph without one is not redrawn.
  const caller = (node) => isCaller(node, state.kinds);
  if (state.graph.nodes.some(caller)) editor.refresh({ panel: caller(onlySelectedNode(state)) && !state.typing });
  // A callee published again since this graph was saved: its node takes the new interface now (an edit to
  // save, as the server would resolve it on the next save or run anyway).
  const stale = staleCallers(state.graph, state.kinds, workflows);
  for (const node of stale) await pickCallee(editor, node.id, { workflowId: node.data.workflowId, version: null });
  if (stale.length) {
    const names = [...new Set(stale.map((node) => calleeOf(node.data).name))].join(", ");
    editor.showMessage(`Published again since this was saved: ${names}. Its nodes now show the published ports; save to keep them.`, "info");
  }
}

// The widgets a caller node's form uses for `workflowId`, `version` and (Map) `itemInput` (`callee` is no
// setting: the server writes it).
export function calleeWidgets(editor, node) {
  const { state } = editor;
  const workflows = state.workflows || [];
  const listed = workflows.find((workflow) => workflow.id === node.data.workflowId);
  const widgets = {
    workflowId: (props) =>
      choiceWidget({
        ...props,
        field: { ...props.field, title: "Workflow to run" },
        choices: [{ value: null, label: state.workflows ? "Choose a workflow…" : "Loading your workflows…" },
          ...workflowChoices(workflows, editor.boot.id)],
        // Named as last resolved; "not found" only once the list is known.
        missingLabel: () => {
          const name = calleeOf(node.data) ? calleeOf(node.data).name : "A workflow";
          return state.workflows ? `${name} (not found)` : name;
        },
        emit: (workflowId) => pickCallee(editor, node.id, { workflowId, version: null }),
        onCommit: () => {},
      }),
    version: (props) => {
      const widget = choiceWidget({
        ...props,
        field: { ...props.field, title: "Version" },
        choices: versionChoices(node.data.version ? [node.data.version] : [], listed ? listed.publishedVersion : null),
        missingLabel: (number) => `Version ${number}`,
        emit: (version) => pickCallee(editor, node.id, { workflowId: node.data.workflowId, version }),
        onCommit: () => {},
      });
      widget.select.disabled = !listed; // no workflow, one deleted, or the list not here yet
      // Only a listed workflow has versions to fetch (the list comes later, or it was deleted).
      if (listed) {
        versionsOf(editor, listed.id).then((numbers) => {
          if (numbers) widget.setChoices(versionChoices(numbers, listed ? listed.publishedVersion : null));
        });
      }
      return widget;
    },
  };
  const itemField = itemInputField(state.kinds.get(node.type));
  if (itemField) {
    widgets[itemField] = (props) =>
      choiceWidget({ ...props, field: { ...props.field, title: "Input that receives each item" }, choices: itemInputChoices(node.data, itemField) });
  }
  return widgets;
}

// The saved version numbers of a workflow, fetched once per list of workflows; null if they cannot be had.
function versionsOf(editor, workflowId) {
  editor.calleeVersions ||= new Map();
  if (!editor.calleeVersions.has(workflowId)) {
    const numbers = api.listVersions(workflowId)
      .then((versions) => versions.map((version) => version.number))
      .catch(() => null);
    editor.calleeVersions.set(workflowId, numbers);
  }
  return editor.calleeVersions.get(workflowId);
}

// The callee's interface as the server would resolve it: the published version's (or, unpublished, the
// current one's, as a draft save does), or the chosen version's, read from that version's graph.
// Also answers the workflow itself, fresher than the list (it may have been published since).
async function fetchCallee(workflowId, version, kinds) {
  if (version === null) {
    const workflow = await api.getWorkflow(workflowId);
    const source = workflow.published || { version: workflow.version, inputs: workflow.inputs, outputs: workflow.outputs };
    const callee = provisionalCallee({ workflowId, version: source.version, name: workflow.name, inputs: source.inputs, outputs: source.outputs });
    return { callee, workflow };
  }
  const [workflow, saved] = await Promise.all([api.getWorkflow(workflowId), api.getVersion(workflowId, version)]);
  const { inputs, outputs } = graphInterface({ nodes: saved.nodes || [], edges: saved.edges || [] }, kinds);
  return { callee: provisionalCallee({ workflowId, version, name: workflow.name, inputs, outputs }), workflow };
}

// Another workflow or version picked: its interface is fetched and the node's ports follow (edges that no
// longer fit go), as one edit. Only the latest pick for a node is applied.
export async function pickCallee(editor, nodeId, { workflowId, version }) {
  editor.calleePicks ||= new Map();
  const pick = Symbol(nodeId);
  editor.calleePicks.set(nodeId, pick);
  let callee = null;
  let problem = null;
  let workflow = null;
  if (workflowId) {
    try {
      ({ callee, workflow } = await fetchCallee(workflowId, version, editor.state.kinds));
    } catch (error) {
      problem = `could not read the workflow: ${error.message}`;
    }
  }
  if (editor.calleePicks.get(nodeId) !== pick) return;
  const { state } = editor;
  if (workflow && state.workflows) {
    state.workflows = state.workflows.map((listed) =>
      listed.id === workflow.id ? { ...listed, name: workflow.name, version: workflow.version, publishedVersion: workflow.publishedVersion } : listed);
  }
  const node = findNode(state.graph, nodeId);
  if (!node) return;
  const data = { ...node.data, workflowId, version, callee };
  // Another workflow's inputs decide again; the same one's (another version) keep the choice, or say it is gone.
  const itemField = itemInputField(state.kinds.get(node.type));
  if (itemField && workflowId !== node.data.workflowId) data[itemField] = null;
  delete state.serverErrors[nodeId];
  if (problem) state.serverErrors[nodeId] = { workflowId: problem };
  edit(editor, updateNodeData(state.graph, nodeId, data, state.catalog), { panel: true });
}
