// The workflow editor page: wires the graph model, history, canvas, minimap, forms, saving and runs.

import { api, ApiError } from "./api.js";
import { Canvas } from "./canvas.js";
import { renderNodeForm } from "./form.js";
import {
  ConnectionRefused,
  addNode,
  catalogByType,
  cloneGraph,
  connect,
  copySelection,
  findNode,
  graphInterface,
  inputPorts,
  moveNodes,
  parseIssuePath,
  pasteFragment,
  removeElements,
  updateNodeData,
} from "./graph.js";
import { History } from "./history.js";
import { autoLayout } from "./layout.js";
import { Minimap } from "./minimap.js";
import { pollRun } from "./poll.js";
import { apiPanel, publishedLabel } from "./publish.js";
import { askInputs, rememberedInputs, rememberInputs } from "./runform.js";
import {
  formatCost,
  formatDuration,
  formatTokens,
  isActive,
  nodeStatuses,
  outputImage,
  outputPreview,
  planStatuses,
  planSummary,
  truncationNote,
} from "./runstate.js";
import { checkData } from "./schema.js";
import { choose, el, formatDate, once, readJsonScript, statusBadge, toast } from "./ui.js";
import { versionsPanel } from "./versions.js";

const boot = readJsonScript("workflow-bootstrap");
const $ = (id) => document.getElementById(id);

const state = {
  catalog: [],
  kinds: new Map(),
  graph: { nodes: [], edges: [] },
  name: "",
  description: "",
  version: 1,
  publishedVersion: null,
  published: null, // the published version's number and interface, as GET /api/workflows/{id} has it
  savedSnapshot: "",
  selection: { nodes: new Set(), edges: new Set() },
  serverErrors: {}, // nodeId -> {field: message}, from the last refused save or run
  graphError: "",
  clipboard: null,
  run: null, // the run shown on the canvas
  plan: null, // POST /api/execute/plan's answer shown on the canvas until the graph changes
  poller: null,
  typing: false, // a form field is being edited: one history entry per field visit
  saving: false,
};
const history = new History();
let canvas;
let minimap;
let form = null;
let versions;
let apiTab;

// ---- state helpers ---------------------------------------------------------------------------------
function snapshot() {
  return JSON.stringify({ name: state.name, nodes: state.graph.nodes, edges: state.graph.edges });
}

function isDirty() {
  return snapshot() !== state.savedSnapshot;
}

function clientErrors() {
  const errors = {};
  const connected = new Set(state.graph.edges.map((edge) => `${edge.target}\u0000${edge.targetHandle}`));
  for (const node of state.graph.nodes) {
    const kind = state.kinds.get(node.type);
    if (!kind) {
      errors[node.id] = { "": `unknown node type "${node.type}"` };
      continue;
    }
    const problems = checkData(kind.dataSchema, node.data);
    for (const port of inputPorts(node, kind)) {
      if (port.required && !connected.has(`${node.id}\u0000${port.name}`)) {
        problems[""] = `input "${port.name}" needs a connection`;
      }
    }
    if (Object.keys(problems).length) errors[node.id] = problems;
  }
  return errors;
}

function allErrors() {
  const errors = clientErrors();
  for (const [nodeId, problems] of Object.entries(state.serverErrors)) {
    if (findNode(state.graph, nodeId)) errors[nodeId] = { ...problems, ...(errors[nodeId] || {}) };
  }
  return errors;
}

function runView() {
  if (!state.run && state.plan) return { statuses: planStatuses(state.plan), results: {} };
  if (!state.run) return { statuses: {}, results: {} };
  const results = Object.fromEntries((state.run.nodeResults || []).map((result) => [result.nodeId, result]));
  return { statuses: nodeStatuses(state.run, state.graph), results };
}

// ---- rendering ---------------------------------------------------------------------------------------
// `node`: only that node's settings changed, so only it is redrawn (typing stays quick on big graphs).
function refresh({ panel = false, node = null } = {}) {
  const errors = allErrors();
  const { statuses, results } = runView();
  const view = { selection: state.selection, statuses, results, errors };
  if (node) canvas.renderNode(state.graph, node, view);
  else canvas.render(state.graph, view);
  minimap.draw(statuses);
  $("canvas-empty").hidden = state.graph.nodes.length > 0;
  $("undo").disabled = !history.canUndo;
  $("redo").disabled = !history.canRedo;
  const selected = state.selection.nodes.size;
  $("run-selected").disabled = selected === 0 || isActive(state.run);
  $("run-selected").textContent = selected > 1 ? `Run ${selected} selected` : "Run selected";
  $("run").disabled = isActive(state.run) || state.graph.nodes.length === 0;
  $("cancel").hidden = !isActive(state.run);
  $("save-state").textContent = isDirty() ? "Unsaved changes" : `Saved · version ${state.version}`;
  $("save-state").classList.toggle("is-dirty", isDirty());
  $("publish-state").textContent = publishedLabel(state.publishedVersion, state.version);
  if (panel) renderSettings();
  else if (form) {
    const only = onlySelectedNode();
    if (only) form.update(errors[only.id] || {});
  }
}

function onlySelectedNode() {
  if (state.selection.nodes.size !== 1) return null;
  return findNode(state.graph, [...state.selection.nodes][0]) || null;
}

function renderSettings() {
  const container = $("node-settings");
  form = null;
  const node = onlySelectedNode();
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
  container.replaceChildren(
    ...[
      heading,
      el("p", { class: "muted", text: kind.description }),
      node.type === "image" ? imageUploader(node) : null,
      fields,
      result ? resultDetails(state.run.id, result) : null,
    ].filter(Boolean),
  );
  const errors = allErrors()[node.id] || {};
  form = renderNodeForm(fields, {
    node,
    kind,
    errors,
    onInput: (name, value) => {
      if (!state.typing) {
        history.record(state.graph);
        state.typing = true;
      }
      const current = findNode(state.graph, node.id);
      if (!current) return;
      const edgeCount = state.graph.edges.length;
      state.graph = updateNodeData(state.graph, node.id, { ...current.data, [name]: value }, state.catalog);
      if (state.serverErrors[node.id]) delete state.serverErrors[node.id][name];
      // A plan no longer holds once the graph changes: the whole canvas drops its badges.
      const planned = Boolean(state.plan);
      dropPlan();
      // A Prompt's template can remove ports and their edges; then the whole canvas is redrawn.
      refresh({ node: state.graph.edges.length === edgeCount && !planned ? node.id : null });
    },
    onCommit: () => {
      state.typing = false;
    },
  });
}

// An Image node's picture: upload a file (stored as uploadId) and see it.
function imageUploader(node) {
  const input = el("input", { type: "file", accept: boot.imageTypes.join(","), id: "image-upload" });
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
      edit(updateNodeData(state.graph, node.id, { ...current.data, uploadId: upload.id, url: null }, state.catalog), {
        panel: true,
      });
    } catch (error) {
      toast(`Could not upload ${file.name}: ${error.message}`, "error");
    }
  });
  return el("div", { class: "field" }, el("label", { for: "image-upload", text: "Upload an image" }), input, preview);
}

function resultDetails(runId, result) {
  const image = outputImage(result.output);
  const note = truncationNote(result);
  return el("section", { class: "result-details", "aria-label": "Last result" },
    el("h3", {}, "Result ", statusBadge(result.status)),
    el("dl", { class: "facts" },
      el("dt", { text: "Duration" }), el("dd", { text: formatDuration(result.durationMs) || "–" }),
      el("dt", { text: "Provider" }), el("dd", { text: [result.provider, result.model].filter(Boolean).join(" / ") || "–" }),
      el("dt", { text: "Tokens" }), el("dd", { text: formatTokens(result) || "–" }),
    ),
    image ? el("img", { class: "result-image", src: image, alt: "output image" }) : null,
    result.errorMessage
      ? el("pre", { class: "output output--error", text: `${result.errorKind || "error"}: ${result.errorMessage}` })
      : el("pre", { class: "output", text: outputPreview(result.output, 20000) }),
    note
      ? el("p", { class: "muted" }, `${note} `,
        el("a", { href: api.nodeOutputUrl(runId, result.nodeId), download: true, text: "Download it" }))
      : null,
  );
}

function showMessage(text, kind = "error") {
  const box = $("canvas-message");
  box.textContent = text;
  box.className = `canvas__overlay canvas__message canvas__message--${kind}`;
  box.hidden = false;
  clearTimeout(showMessage.timer);
  showMessage.timer = setTimeout(() => {
    box.hidden = true;
  }, 4000);
}

// ---- edits -------------------------------------------------------------------------------------------
function edit(next, { panel = false } = {}) {
  history.record(state.graph);
  state.typing = false;
  state.graph = next;
  dropPlan();
  refresh({ panel });
}

function select(selection, additive) {
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
  refresh({ panel: true });
}

function addKind(type, position) {
  const kind = state.kinds.get(type);
  const { graph, node } = addNode(state.graph, { type, position }, kind);
  state.selection = { nodes: new Set([node.id]), edges: new Set() };
  edit(graph, { panel: true });
}

function tryConnect(connection) {
  if (!connection.targetHandle) {
    showMessage(`${connection.target} has no input to connect to.`);
    return;
  }
  try {
    const { graph } = connect(state.graph, state.catalog, connection);
    edit(graph);
  } catch (error) {
    if (!(error instanceof ConnectionRefused)) throw error;
    showMessage(error.message);
  }
}

function deleteSelection() {
  if (!state.selection.nodes.size && !state.selection.edges.size) return;
  const next = removeElements(state.graph, {
    nodeIds: [...state.selection.nodes],
    edgeIds: [...state.selection.edges],
  });
  state.selection = { nodes: new Set(), edges: new Set() };
  edit(next, { panel: true });
}

// Arrow keys move the selected nodes (Shift for bigger steps).
function nudge(key, step) {
  const dx = key === "ArrowLeft" ? -step : key === "ArrowRight" ? step : 0;
  const dy = key === "ArrowUp" ? -step : key === "ArrowDown" ? step : 0;
  const positions = {};
  for (const node of state.graph.nodes) {
    if (state.selection.nodes.has(node.id)) positions[node.id] = { x: node.position.x + dx, y: node.position.y + dy };
  }
  edit(moveNodes(state.graph, positions));
}

function undo() {
  const previous = history.undo(state.graph);
  if (previous) restore(previous);
}

function redo() {
  const next = history.redo(state.graph);
  if (next) restore(next);
}

function restore(graph) {
  state.graph = graph;
  state.typing = false;
  dropPlan();
  const ids = new Set(graph.nodes.map((node) => node.id));
  const edgeIds = new Set(graph.edges.map((edge) => edge.id));
  state.selection = {
    nodes: new Set([...state.selection.nodes].filter((id) => ids.has(id))),
    edges: new Set([...state.selection.edges].filter((id) => edgeIds.has(id))),
  };
  refresh({ panel: true });
}

function copy() {
  if (!state.selection.nodes.size) return;
  state.clipboard = copySelection(state.graph, [...state.selection.nodes]);
  showMessage(`Copied ${state.clipboard.nodes.length} node(s).`, "info");
}

function paste() {
  if (!state.clipboard || !state.clipboard.nodes.length) return;
  const { graph, nodeIds } = pasteFragment(state.graph, state.clipboard);
  // A second paste lands a step further on instead of on top of the first.
  state.clipboard = {
    ...state.clipboard,
    nodes: state.clipboard.nodes.map((node) => ({ ...node, position: { x: node.position.x + 40, y: node.position.y + 40 } })),
  };
  state.selection = { nodes: new Set(nodeIds), edges: new Set() };
  edit(graph, { panel: true });
}

function arrange() {
  if (!state.graph.nodes.length) return;
  edit(moveNodes(state.graph, autoLayout(state.graph)));
  canvas.fit();
  minimap.draw();
}

// The workflow as saved on the server (on start, or restored from a version): nothing left to save.
function loadWorkflow(workflow) {
  state.graph = cloneGraph(workflow);
  state.name = workflow.name;
  state.description = workflow.description || "";
  state.version = workflow.version;
  loadPublished(workflow);
  state.savedSnapshot = snapshot();
}

function loadPublished(workflow) {
  state.publishedVersion = workflow.publishedVersion ?? null;
  state.published = workflow.published ?? null;
}

// A restored version replaces the canvas like any other change, so Undo can bring back what was there.
function showRestored(workflow) {
  history.record(state.graph);
  state.typing = false;
  loadWorkflow(workflow);
  state.serverErrors = {};
  state.selection = { nodes: new Set(), edges: new Set() };
  $("workflow-name").value = state.name;
  refresh({ panel: true });
  if (state.graph.nodes.length) canvas.fit();
}

// ---- saving --------------------------------------------------------------------------------------------
function applyServerErrors(error) {
  state.serverErrors = {};
  const loose = [];
  for (const issue of error.fieldErrors) {
    const where = parseIssuePath(issue.path);
    if (where && where.list === "nodes" && state.graph.nodes[where.index]) {
      const nodeId = state.graph.nodes[where.index].id;
      state.serverErrors[nodeId] ||= {};
      state.serverErrors[nodeId][where.field || ""] = issue.message;
    } else if (where && where.list === "edges" && state.graph.edges[where.index]) {
      const edge = state.graph.edges[where.index];
      state.serverErrors[edge.target] ||= {};
      state.serverErrors[edge.target][""] = `edge from ${edge.source}: ${issue.message}`;
    } else {
      // Not on the canvas (a field such as name, or the graph as a whole): say where.
      loose.push(issue.path === "body" ? issue.message : `${issue.path}: ${issue.message}`);
    }
  }
  refresh({ panel: true });
  const count = error.fieldErrors.length;
  toast(count ? `${error.message} (${count} problem${count > 1 ? "s" : ""} marked on the canvas)` : error.message, "error");
  if (loose.length) showMessage(loose.join("; "));
}

async function save({ version = state.version } = {}) {
  if (state.saving) return false;
  state.saving = true;
  $("save").disabled = true;
  const sent = snapshot();
  try {
    const workflow = await api.updateWorkflow(boot.id, {
      name: state.name,
      description: state.description,
      nodes: state.graph.nodes,
      edges: state.graph.edges,
      version,
    });
    state.version = workflow.version;
    loadPublished(workflow);
    state.savedSnapshot = sent;
    state.serverErrors = {};
    toast("Saved.", "success", 2500);
    refresh();
    if (!$("panel-versions").hidden) versions.load();
    if (!$("panel-api").hidden) apiTab.render();
    return true;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 409) return await changedElsewhere(error);
    if (error.status === 400) applyServerErrors(error);
    else toast(`Could not save: ${error.message}`, "error");
    return false;
  } finally {
    state.saving = false;
    $("save").disabled = false;
  }
}

async function changedElsewhere(error) {
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
    state.savedSnapshot = snapshot(); // leaving on purpose: no unsaved-changes prompt
    window.location.reload();
    return false;
  }
  if (answer === "overwrite") {
    state.saving = false;
    const latest = current ?? (await api.getWorkflow(boot.id)).version;
    return save({ version: latest });
  }
  return false;
}

// ---- runs ------------------------------------------------------------------------------------------------
function executeBody(scope, nodeIds) {
  // A saved graph runs as its version; unsaved edits run as they are on the canvas.
  const body = isDirty()
    ? { workflowId: boot.id, nodes: state.graph.nodes, edges: state.graph.edges, scope }
    : { workflowId: boot.id, scope };
  if (scope !== "full") body.nodeIds = nodeIds;
  return body;
}

// Shows on the canvas what Run would do: which nodes would run and which would reuse an earlier result.
async function showPlan() {
  try {
    const plan = await api.planExecution(executeBody("full", []));
    if (state.poller) state.poller.stop();
    state.run = null;
    state.plan = plan;
    state.serverErrors = {};
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 400) applyServerErrors(error);
    else toast(`Could not plan the run: ${error.message}`, "error");
  }
  renderRunBanner();
  refresh();
}

function dropPlan() {
  if (!state.plan) return;
  state.plan = null;
  renderRunBanner();
}

async function startRun(scope, nodeIds = []) {
  const body = executeBody(scope, nodeIds);
  const { inputs } = graphInterface(state.graph);
  if (inputs.length) {
    const previous = rememberedInputs(boot.id);
    // A full run asks for the inputs; a node run reuses the last ones (the nodes may not need them).
    const values =
      scope === "full"
        ? await askInputs(inputs, previous)
        : Object.fromEntries(inputs.filter((input) => input.name in previous).map((input) => [input.name, previous[input.name]]));
    if (values === null) return;
    if (scope === "full") rememberInputs(boot.id, values);
    body.inputs = values;
  }
  $("run").disabled = true;
  try {
    const { runId } = await api.execute(body);
    state.serverErrors = {};
    state.plan = null;
    showRun({ id: runId, status: "queued", scope, nodeIds, nodeResults: [], logs: [] });
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    if (error.status === 400) applyServerErrors(error);
    else if (error.status === 429) toast("Too many runs right now; wait a moment and try again.", "error");
    else toast(`Could not start the run: ${error.message}`, "error");
    refresh();
  }
}

function showRun(run) {
  if (state.poller) state.poller.stop();
  state.run = run;
  renderRunBanner();
  refresh({ panel: true });
  if (isActive(run)) {
    state.poller = pollRun(api.getRun, run.id, (latest) => {
      state.run = latest;
      renderRunBanner();
      refresh({ panel: !state.typing });
      if (!isActive(latest)) {
        loadRunHistory();
        const kind = latest.status === "succeeded" ? "success" : latest.status === "cancelled" ? "info" : "error";
        toast(`Run ${latest.status}${latest.errorSummary ? `: ${latest.errorSummary}` : "."}`, kind);
      }
    }, { onError: once((error) => toast(`Lost touch with the run: ${error.message}. Still trying…`, "error")) });
  }
}

function renderRunBanner() {
  const banner = $("run-banner");
  const run = state.run;
  if (!run && state.plan) {
    banner.hidden = false;
    banner.replaceChildren(
      el("span", { class: "badge badge--reuse", text: "plan" }),
      el("span", { id: "plan-summary", text: ` ${planSummary(state.plan)} ` }),
      el("button", {
        type: "button",
        class: "button button--ghost button--small",
        text: "Clear",
        "aria-label": "Clear the plan from the canvas",
        onclick: () => {
          dropPlan();
          refresh();
        },
      }),
    );
    return;
  }
  if (!run) {
    banner.hidden = true;
    return;
  }
  banner.hidden = false;
  const counts = run.totalNodes
    ? ` · ${run.succeededNodes ?? 0}/${run.totalNodes} succeeded` +
      (run.reusedNodes ? `, ${run.reusedNodes} reused` : "") +
      (run.failedNodes ? `, ${run.failedNodes} failed` : "") +
      (run.skippedNodes ? `, ${run.skippedNodes} skipped` : "")
    : "";
  const cost = formatCost(run.cost);
  banner.replaceChildren(
    statusBadge(run.status),
    el("span", {
      text: ` ${counts}${run.durationMs != null ? ` · ${formatDuration(run.durationMs)}` : ""}${cost ? ` · ${cost}` : ""} `,
    }),
    el("a", { href: `/runs/${run.id}/`, text: "Open run page" }),
    el("button", {
      type: "button",
      class: "button button--ghost button--small",
      text: "Clear",
      "aria-label": "Clear run results from the canvas",
      onclick: () => {
        if (state.poller) state.poller.stop();
        state.run = null;
        renderRunBanner();
        refresh({ panel: true });
      },
    }),
  );
}

async function cancelRun() {
  if (!state.run) return;
  try {
    await api.cancelRun(state.run.id);
    toast("Cancelling…", "info", 2000);
  } catch (error) {
    toast(`Could not cancel: ${error.message}`, "error");
  }
}

async function loadRunHistory() {
  const list = $("run-history");
  try {
    const page = await api.listRuns({ workflow: boot.id, limit: 20 });
    if (!page.results.length) {
      list.replaceChildren(el("li", { class: "empty", text: "No runs yet. Press Run to start one." }));
      return;
    }
    list.replaceChildren(
      ...page.results.map((run) =>
        el("li", { class: "run-item" },
          el("button", {
            type: "button",
            class: "run-item__open",
            "aria-label": `Show run from ${formatDate(run.createdAt)} on the canvas`,
            onclick: async () => {
              try {
                showRun(await api.getRun(run.id));
              } catch (error) {
                toast(`Could not open the run: ${error.message}`, "error");
              }
            },
          },
          statusBadge(run.status),
          el("span", { class: "run-item__when", text: formatDate(run.createdAt) }),
          el("span", { class: "muted", text: `${run.scope} · ${formatDuration(run.durationMs) || "–"}` })),
          el("a", { href: `/runs/${run.id}/`, class: "run-item__link", text: "Details" }),
        ),
      ),
    );
  } catch (error) {
    list.replaceChildren(el("li", { class: "error", text: `Could not load runs: ${error.message}` }));
  }
}

// ---- palette -----------------------------------------------------------------------------------------------
function buildPalette() {
  const list = $("palette");
  list.replaceChildren(
    ...state.catalog.map((kind) =>
      el("li", {},
        el("button", {
          type: "button",
          class: `palette__item node--${kind.type}`,
          dataset: { kind: kind.type },
          title: kind.description,
          "aria-label": `Add ${kind.label} node: ${kind.description}`,
          onpointerdown: (event) => dragKind(event, kind),
          onclick: (event) => {
            // Keyboard activation (Enter or Space) adds the node in the middle of the view.
            if (event.detail === 0) {
              const { width, height } = canvas.size();
              const middle = canvas.clientToWorld(
                canvas.root.getBoundingClientRect().left + width / 2,
                canvas.root.getBoundingClientRect().top + height / 2,
              );
              addKind(kind.type, { x: middle.x - 110, y: middle.y - 40 });
            }
          },
        },
        el("span", { class: "palette__label", text: kind.label }),
        el("span", { class: "palette__description", text: kind.description })),
      ),
    ),
  );
}

function dragKind(event, kind) {
  if (event.button !== 0) return;
  event.preventDefault();
  const ghost = el("div", { class: `node node--${kind.type} node--ghost` },
    el("div", { class: "node__header" }, el("span", { class: "node__kind", text: kind.label })));
  ghost.style.left = `${event.clientX}px`;
  ghost.style.top = `${event.clientY}px`;
  document.body.append(ghost);
  const move = (e) => {
    ghost.style.left = `${e.clientX}px`;
    ghost.style.top = `${e.clientY}px`;
    canvas.root.classList.toggle("is-drop-target", canvas.isOverCanvas(e.clientX, e.clientY));
  };
  const up = (e) => {
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    ghost.remove();
    canvas.root.classList.remove("is-drop-target");
    if (canvas.isOverCanvas(e.clientX, e.clientY)) {
      const at = canvas.clientToWorld(e.clientX, e.clientY);
      addKind(kind.type, { x: at.x - 20, y: at.y - 16 });
    }
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}

// ---- keyboard ----------------------------------------------------------------------------------------------
function onKey(event) {
  const inField = event.target.closest("input, textarea, select, [contenteditable]");
  const mod = event.ctrlKey || event.metaKey;
  const key = event.key.toLowerCase();
  if (mod && key === "s") {
    event.preventDefault();
    save();
    return;
  }
  if (inField || document.querySelector("dialog[open]")) return;
  if (mod && key === "z" && event.shiftKey) redo();
  else if (mod && key === "z") undo();
  else if (mod && key === "y") redo();
  else if (mod && key === "c") copy();
  else if (mod && key === "v") paste();
  else if (mod && key === "a") {
    state.selection = { nodes: new Set(state.graph.nodes.map((node) => node.id)), edges: new Set() };
    refresh({ panel: true });
  } else if (event.key === "Delete" || event.key === "Backspace") deleteSelection();
  else if (event.key.startsWith("Arrow") && state.selection.nodes.size) nudge(event.key, event.shiftKey ? 50 : 10);
  else if (event.key === "Escape") select({ nodes: [], edges: [] }, false);
  else return;
  event.preventDefault();
}

// ---- start ---------------------------------------------------------------------------------------------------
async function start() {
  let workflow;
  try {
    [state.catalog, workflow] = await Promise.all([api.nodeKinds(), api.getWorkflow(boot.id)]);
  } catch (error) {
    $("canvas-empty").textContent = `Could not load the workflow: ${error.message}`;
    $("canvas-empty").classList.add("error");
    return;
  }
  state.kinds = catalogByType(state.catalog);
  loadWorkflow(workflow);

  canvas = new Canvas($("canvas"), {
    catalog: state.catalog,
    onSelect: select,
    onMoveEnd: (positions) => edit(moveNodes(state.graph, positions)),
    onConnect: tryConnect,
    onViewChange: () => minimap && minimap.draw(),
  });
  minimap = new Minimap($("minimap"), canvas);
  versions = versionsPanel($("version-list"), {
    workflowId: boot.id,
    currentVersion: () => state.version,
    isDirty,
    onRestored: showRestored,
  });
  apiTab = apiPanel($("api-panel"), {
    workflowId: boot.id,
    workflow: () => ({ version: state.version, publishedVersion: state.publishedVersion, published: state.published }),
    isDirty,
    onChange: (workflow, error) => {
      if (error) applyServerErrors(error);
      if (workflow) loadPublished(workflow);
      apiTab.render();
      refresh();
    },
  });
  buildPalette();

  const nameInput = $("workflow-name");
  nameInput.value = state.name;
  nameInput.addEventListener("input", () => {
    state.name = nameInput.value;
    refresh();
  });
  $("save").addEventListener("click", () => save());
  $("run").addEventListener("click", () => startRun("full"));
  $("plan").addEventListener("click", showPlan);
  $("run-selected").addEventListener("click", () => {
    const ids = [...state.selection.nodes];
    startRun(ids.length === 1 ? "node" : "selection", ids);
  });
  $("cancel").addEventListener("click", cancelRun);
  $("undo").addEventListener("click", undo);
  $("redo").addEventListener("click", redo);
  $("arrange").addEventListener("click", arrange);
  $("zoom-in").addEventListener("click", () => canvas.zoomBy(1.2));
  $("zoom-out").addEventListener("click", () => canvas.zoomBy(1 / 1.2));
  $("zoom-fit").addEventListener("click", () => canvas.fit());
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[role=tab]")) {
        const chosen = other === tab;
        other.setAttribute("aria-selected", String(chosen));
        $(other.getAttribute("aria-controls")).hidden = !chosen;
      }
      if (tab.id === "tab-runs") loadRunHistory();
      if (tab.id === "tab-versions") versions.load();
      if (tab.id === "tab-api") apiTab.render();
    });
  }
  document.addEventListener("keydown", onKey);
  window.addEventListener("beforeunload", (event) => {
    if (isDirty()) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("resize", () => minimap.draw());

  refresh({ panel: true });
  if (state.graph.nodes.length) canvas.fit();
  refresh();
  loadRunHistory();
  document.body.dataset.ready = "true";
}

start();
