// The editor's state and what is derived from it (dirty, errors, run view). Pure: no DOM, so tests import it.

import { calleeProblem, isCaller, itemInput, itemInputField } from "../callees.js";
import { findNode } from "../graph.js";
import { inputPorts } from "../portrules.js";
import { nodeName } from "../kinds.js";
import { nodeStatuses, planStatuses } from "../runstate.js";
import { checkData } from "../schema.js";

export function createState({ catalog = [], kinds = new Map() } = {}) {
  return {
    catalog,
    kinds,
    graph: { nodes: [], edges: [], notes: [], groups: [] },
    name: "",
    description: "",
    version: 1,
    publishedVersion: null, // the saved version the API, webhooks and schedules run
    published: null, // that version's number and interface, as GET /api/workflows/{id} has it
    publishing: false,
    savedSnapshot: "",
    selection: { nodes: new Set(), edges: new Set() },
    serverErrors: {}, // nodeId -> {field: message}, from the last refused save or run
    clipboard: null,
    workflows: null, // the user's workflows a Sub-workflow or Map node may call, once listed
    run: null, // the run shown on the canvas
    plan: null, // POST /api/execute/plan's answer shown on the canvas until the graph changes
    planReuse: null, // "all" when the plan shown is Run changes's
    follower: null, // followRun's handle while the run shown is active
    liveTexts: new Map(), // nodeId -> what a running LLM/Vision node has generated so far
    liveSteps: new Map(), // nodeId -> the tool calls a running node has made so far (steps.js)
    typing: false, // a form field is being edited: one history entry per field visit
    saving: false,
  };
}

export function snapshot(state) {
  const { nodes, edges, notes = [], groups = [] } = state.graph;
  return JSON.stringify({ name: state.name, nodes, edges, notes, groups });
}

// Memoised on the graph and name: a keystroke asks several times, the graph changes once. While a field is
// being typed in, the graph has changed: no need to serialise it on every keystroke (leaving the field
// compares for real, so typing a change back shows "Saved" again).
export function isDirty(state) {
  if (state.typing) return true;
  const memo = state.dirtyMemo;
  if (memo && memo.graph === state.graph && memo.name === state.name && memo.saved === state.savedSnapshot) {
    return memo.dirty;
  }
  const dirty = snapshot(state) !== state.savedSnapshot;
  state.dirtyMemo = { graph: state.graph, name: state.name, saved: state.savedSnapshot, dirty };
  return dirty;
}

// A node's name as a person reads it (its label, else kind and number), for messages.
export function nodeLabel(state, nodeId) {
  const node = findNode(state.graph, nodeId);
  return node ? nodeName(node, state.kinds.get(node.type)) : nodeId;
}

// "Published: v3 (editing v5)", or "Not published".
export function publishedLabel(publishedVersion, editingVersion) {
  if (!publishedVersion) return "Not published";
  if (publishedVersion === editingVersion) return `Published: v${publishedVersion}`;
  return `Published: v${publishedVersion} (editing v${editingVersion})`;
}

// Problems found in the browser for one node: its data against its kind's schema, unconnected required inputs.
export function nodeProblems(state, node, connected) {
  const kind = state.kinds.get(node.type);
  if (!kind) return { "": `unknown node type "${node.type}"` };
  const problems = checkData(kind.dataSchema, node.data);
  for (const port of inputPorts(node, kind)) {
    if (port.required && !connected.has(`${node.id}\u0000${port.name}`)) {
      problems[""] = `input "${port.name}" needs a connection`;
    }
  }
  if (isCaller(node, state.kinds)) {
    const callee = calleeProblem(node.data, state.workflows);
    if (callee) problems[callee.field] = callee.message;
    const itemField = itemInputField(kind);
    const item = itemField && !callee ? itemInput(node.data, itemField).problem : null;
    if (item) problems[itemField] = item;
  }
  return problems;
}

function connectedInputs(graph) {
  return new Set(graph.edges.map((edge) => `${edge.target}\u0000${edge.targetHandle}`));
}

export function clientErrors(state) {
  const errors = {};
  const connected = connectedInputs(state.graph);
  for (const node of state.graph.nodes) {
    const problems = nodeProblems(state, node, connected);
    if (Object.keys(problems).length) errors[node.id] = problems;
  }
  return errors;
}

// {nodeId: {field: message}}: the browser's own checks with the server's last answer beneath them.
// Memoised per graph: while typing only the edited node is checked again.
export function allErrors(state) {
  // A new list of workflows (a callee deleted or published meanwhile) may change any caller node's problems.
  const memo = state.errorMemo && state.errorMemo.workflows === state.workflows ? state.errorMemo : null;
  let client;
  if (memo && memo.graph === state.graph) {
    client = memo.client;
  } else if (memo && memo.graph.edges === state.graph.edges && memo.graph.nodes.length === state.graph.nodes.length) {
    // Only node data changed (typing): recheck the nodes whose object changed.
    client = { ...memo.client };
    const connected = connectedInputs(state.graph);
    state.graph.nodes.forEach((node, index) => {
      if (memo.graph.nodes[index] === node) return;
      delete client[node.id];
      const problems = nodeProblems(state, node, connected);
      if (Object.keys(problems).length) client[node.id] = problems;
    });
  } else {
    client = clientErrors(state);
  }
  state.errorMemo = { graph: state.graph, workflows: state.workflows, client };
  const errors = { ...client };
  for (const [nodeId, problems] of Object.entries(state.serverErrors)) {
    if (findNode(state.graph, nodeId)) errors[nodeId] = { ...problems, ...(errors[nodeId] || {}) };
  }
  return errors;
}

export function runView(state) {
  if (!state.run && state.plan) return { statuses: planStatuses(state.plan), results: {} };
  if (!state.run) return { statuses: {}, results: {} };
  const results = Object.fromEntries((state.run.nodeResults || []).map((result) => [result.nodeId, result]));
  // A running node shows what it has generated so far, in the same box its result will fill.
  for (const [nodeId, text] of state.liveTexts) {
    if (!results[nodeId]) results[nodeId] = { nodeId, status: "running", output: { text: text || "…" } };
  }
  return { statuses: nodeStatuses(state.run, state.graph), results };
}

export function onlySelectedNode(state) {
  if (state.selection.nodes.size !== 1) return null;
  return findNode(state.graph, [...state.selection.nodes][0]) || null;
}
