// The workflow editor page's entry module: loads the workflow and the node kinds, builds the editor, wires it.
// The only editor module that does anything on import.

import { api } from "../api.js";
import { Canvas } from "../canvas.js";
import { offerModels } from "../chain.js";
import { catalogByType, makeCatalog, moveNodes } from "../graph.js";
import { History } from "../history.js";
import { Minimap } from "../minimap.js";
import { readJsonScript } from "../ui.js";
import { versionsPanel } from "../versions.js";
import { loadCallableWorkflows } from "./callees.js";
import { dropPositions, setupCanvasTools } from "./canvas-tools.js";
import { arrange, edit, loadWorkflow, redo, select, showRestored, tryConnect, undo } from "./edits.js";
import { deleteEdge, showContextMenu } from "./contextmenu.js";
import { acceptImageDrops } from "./imagedrop.js";
import { addStickyNote, changeNote, renameGroup, selectNote } from "./annotations.js";
import { handleKey } from "./keyboard.js";
import { createState, isDirty } from "./model.js";
import { buildPalette } from "./palette.js";
import { openNodeView, openOnEnter } from "./nodeview.js";
import { renderOutput } from "./output.js";
import { setupToolbarOverflow } from "./overflow.js";
import { isNarrow, setPanel, setupPanels } from "./panels.js";
import { pickForConnection } from "./pickers.js";
import { openPlayground } from "./playground.js";
import { renderApiPanel } from "./publish.js";
import { refresh, refreshToolbar, showMessage } from "./render.js";
import { cancelRun, loadRunHistory, showLatestRun, showPlan, startRun } from "./runs.js";
import { save, saveWithNote } from "./saving.js";
import { renderSettings } from "./settings.js";

async function start() {
  const boot = readJsonScript("workflow-bootstrap");
  const dom = (id) => document.getElementById(id);
  let catalog;
  let workflow;
  try {
    let kinds;
    let portTypes;
    [kinds, portTypes, workflow] = await Promise.all([api.nodeKinds(), api.portTypes(), api.getWorkflow(boot.id)]);
    catalog = makeCatalog(kinds, portTypes);
  } catch (error) {
    dom("canvas-empty").textContent = `Could not load the workflow: ${error.message}`;
    dom("canvas-empty").classList.add("error");
    return;
  }
  performance.mark("editor-loaded");
  const editor = {
    boot,
    dom,
    state: createState({ catalog, kinds: catalogByType(catalog) }),
    history: new History(),
    canvas: null,
    minimap: null,
    versions: null,
    form: null,
    // Drawing, reached through the editor: render.js draws the settings panel, which edits, so the modules
    // that edit cannot import render.js without a cycle.
    refresh: (options) => refresh(editor, options),
    refreshToolbar: () => refreshToolbar(editor),
    showMessage: (text, kind) => showMessage(editor, text, kind),
    renderSettings: () => renderSettings(editor),
    plan: (options) => showPlan(editor, options),
    // The model names chain fields offer; they arrive after the editor opens (a server may be slow to list).
    models: [],
  };
  loadWorkflow(editor, workflow);
  editor.canvas = new Canvas(dom("canvas"), {
    catalog,
    onSelect: (selection, additive) => select(editor, selection, additive),
    onMoveEnd: (positions) => edit(editor, moveNodes(editor.state.graph, dropPositions(positions))),
    onConnect: (connection) => tryConnect(editor, connection),
    onViewChange: () => editor.minimap && editor.minimap.draw(),
    onOpen: (nodeId) => openNodeView(editor, nodeId),
    onContextMenu: (target) => showContextMenu(editor, target),
    onDropConnection: (drop) => pickForConnection(editor, drop),
    onDeleteEdge: (edgeId) => deleteEdge(editor, edgeId),
    onSelectNote: (noteId) => selectNote(editor, noteId),
    onNoteChange: (noteId, fields) => changeNote(editor, noteId, fields),
    onGroupOpen: (groupId) => renameGroup(editor, groupId),
    covers: () => [dom("palette-panel"), dom("details-panel")],
  });
  editor.minimap = new Minimap(dom("minimap"), editor.canvas);
  editor.versions = versionsPanel(dom("version-list"), {
    workflowId: boot.id,
    currentVersion: () => editor.state.version,
    isDirty: () => isDirty(editor.state),
    onRestored: (restored) => showRestored(editor, restored),
    onChanges: (changes) => editor.canvas.showChanges(changes),
  });
  api.listModels().then(
    (catalog) => {
      editor.models = catalog.models.map((model) => model.id);
      offerModels(editor.models);
    },
    () => {}, // without suggestions, any model name can still be typed
  );
  setupPanels(editor);
  setupToolbarOverflow(editor);
  setupCanvasTools(editor);
  acceptImageDrops(editor);
  buildPalette(editor);
  wireToolbar(editor);
  document.addEventListener("keydown", (event) => openOnEnter(editor, event), true);
  document.addEventListener("keydown", (event) => handleKey(editor, event));
  window.addEventListener("beforeunload", (event) => {
    if (isDirty(editor.state)) {
      event.preventDefault();
      event.returnValue = "";
    }
  });
  window.addEventListener("resize", () => editor.minimap.draw());

  editor.refresh({ panel: true });
  // Port positions are kept in world coordinates, so fitting needs no second drawing.
  if (editor.state.graph.nodes.length) editor.canvas.fit();
  loadRunHistory(editor).then((runs) => showLatestRun(editor, runs));
  // The workflows a Sub-workflow or Map node may call; listed again on coming back to the tab, where one
  // may have been created, published or deleted meanwhile.
  loadCallableWorkflows(editor);
  window.addEventListener("focus", () => loadCallableWorkflows(editor));
  document.body.dataset.ready = "true";
  performance.mark("editor-ready"); // bench/editor.py times the opening by it
}

function wireToolbar(editor) {
  const { dom, state, canvas } = editor;
  const nameInput = dom("workflow-name");
  nameInput.value = state.name;
  nameInput.addEventListener("input", () => {
    state.name = nameInput.value;
    editor.refresh();
  });
  dom("save").addEventListener("click", () => save(editor));
  dom("save-with-note").addEventListener("click", () => saveWithNote(editor));
  dom("run").addEventListener("click", () => startRun(editor, "full"));
  dom("run-changes").addEventListener("click", () => startRun(editor, "full", [], { reuse: "all" }));
  dom("plan").addEventListener("click", () => showPlan(editor));
  dom("open-playground").addEventListener("click", () => openPlayground(editor));
  dom("run-selected").addEventListener("click", () => {
    const ids = [...state.selection.nodes];
    startRun(editor, ids.length === 1 ? "node" : "selection", ids);
  });
  dom("cancel").addEventListener("click", () => cancelRun(editor));
  dom("undo").addEventListener("click", () => undo(editor));
  dom("redo").addEventListener("click", () => redo(editor));
  dom("arrange").addEventListener("click", () => arrange(editor));
  dom("zoom-in").addEventListener("click", () => canvas.zoomBy(1.2));
  dom("zoom-out").addEventListener("click", () => canvas.zoomBy(1 / 1.2));
  dom("zoom-fit").addEventListener("click", () => canvas.fit({ whole: true }));
  dom("add-note").addEventListener("click", () => {
    // On a phone the palette is a drawer over the canvas: it makes way for the note, as for a node.
    if (isNarrow(editor)) setPanel(editor, "palette", false);
    addStickyNote(editor);
  });
  for (const tab of document.querySelectorAll("[role=tab]")) {
    tab.addEventListener("click", () => {
      for (const other of document.querySelectorAll("[role=tab]")) {
        const chosen = other === tab;
        other.setAttribute("aria-selected", String(chosen));
        dom(other.getAttribute("aria-controls")).hidden = !chosen;
      }
      if (tab.id === "tab-output") renderOutput(editor);
      if (tab.id === "tab-runs") loadRunHistory(editor);
      if (tab.id === "tab-versions") editor.versions.load();
      if (tab.id === "tab-api") renderApiPanel(editor);
    });
  }
}

start();
