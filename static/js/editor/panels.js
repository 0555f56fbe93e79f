// The palette and the details panel: collapsible on wide screens (remembered per browser), drawers over the
// canvas on narrow ones (closed until asked for, one at a time).

import { bounds } from "../viewport.js";

const STORAGE_KEY = "weft.editor.panels";
export const NARROW_QUERY = "(max-width: 900px)";
const PANELS = { palette: "toggle-palette", details: "toggle-details" };

function remembered(storage) {
  try {
    return { palette: true, details: true, ...JSON.parse(storage.getItem(STORAGE_KEY) || "{}") };
  } catch {
    return { palette: true, details: true };
  }
}

export function setupPanels(editor, { storage = window.localStorage, media = window.matchMedia(NARROW_QUERY) } = {}) {
  const panels = { storage, media, open: {} };
  editor.panels = panels;
  const apply = () => {
    panels.open = media.matches ? { palette: false, details: false } : remembered(storage);
    show(editor);
  };
  for (const [name, id] of Object.entries(PANELS)) {
    editor.dom(id).addEventListener("click", () => setPanel(editor, name, !panels.open[name]));
  }
  media.addEventListener("change", apply);
  apply();
}

export function setPanel(editor, name, open) {
  const panels = editor.panels;
  if (!panels) return;
  panels.open = { ...panels.open, [name]: open };
  if (panels.media.matches) {
    // A drawer covers the canvas: only one at a time.
    if (open) for (const other of Object.keys(PANELS)) if (other !== name) panels.open[other] = false;
  } else {
    panels.storage.setItem(STORAGE_KEY, JSON.stringify(panels.open));
  }
  show(editor);
  if (editor.minimap) editor.minimap.draw();
  if (open && panels.media.matches) revealSelection(editor);
}

// A drawer opening over the canvas pans the selected nodes out from under it (when the canvas beside it
// has room for them).
function revealSelection(editor) {
  const { canvas, state } = editor;
  if (!canvas || !state.selection.nodes.size) return;
  canvas.reveal(bounds(canvas.nodeRects().filter((rect) => state.selection.nodes.has(rect.id))));
}

function show(editor) {
  const root = editor.dom("editor");
  for (const [name, id] of Object.entries(PANELS)) {
    const open = Boolean(editor.panels.open[name]);
    root.dataset[name] = open ? "open" : "closed";
    editor.dom(id).setAttribute("aria-expanded", String(open));
  }
}

export function isNarrow(editor) {
  return Boolean(editor.panels && editor.panels.media.matches);
}
