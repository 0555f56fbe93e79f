// The canvas's gestures: pan, zoom, drag nodes, band-select, drag connections, the context menu and the
// delete button of a hovered edge (notes and group frames: canvas-annotations.js). They draw only what is in motion and tell the editor what was asked
// through the canvas's callbacks; the editor's re-render draws the result.

import { startAnnotationGesture } from "./canvas-annotations.js";
import { typesCompatible } from "./graph.js";
import { el } from "./ui.js";
import { edgePath, toWorld, zoomAt } from "./viewport.js";

const SVG = "http://www.w3.org/2000/svg";
// A pointer that moves less than this (screen pixels) between down and up clicked rather than dragged.
const DRAG_THRESHOLD = 3;
// The wheel zooms by exp(-deltaY * rate): a 100-pixel notch by a factor of about 1.16.
const WHEEL_ZOOM_RATE = 0.0015;
// The edge delete button sits this far (world pixels) above the edge's middle, so a click on the line
// itself still selects the edge.
const EDGE_BUTTON_LIFT = 22;
// How long the delete button stays once the pointer leaves the edge, time to reach the button.
const EDGE_BUTTON_GRACE_MS = 400;

// Listens on the canvas's root for every gesture; adds the selection band and the edge delete button.
export function listenForGestures(canvas) {
  const { root } = canvas;
  canvas.band = el("div", { class: "canvas__band", hidden: true });
  root.append(canvas.band);
  canvas.edgeButton = el("button", {
    type: "button",
    class: "edge__delete",
    hidden: true,
    title: "Delete this connection",
    "aria-label": "Delete this connection",
    text: "×",
    onpointerdown: (event) => event.stopPropagation(),
    onclick: () => {
      canvas.edgeButton.hidden = true;
      if (canvas.callbacks.onDeleteEdge) canvas.callbacks.onDeleteEdge(canvas.edgeButton.dataset.edge);
    },
    onpointerleave: () => edgeLeave(canvas),
  });
  canvas.world.append(canvas.edgeButton);
  canvas.edgeLayer.addEventListener("pointerover", (event) => edgeHover(canvas, event));
  canvas.edgeLayer.addEventListener("pointerout", () => edgeLeave(canvas));
  root.addEventListener("contextmenu", (event) => contextMenu(canvas, event));
  root.addEventListener("pointerdown", (event) => pointerDown(canvas, event));
  root.addEventListener("wheel", (event) => wheel(canvas, event), { passive: false });
}

function wheel(canvas, event) {
  event.preventDefault();
  const origin = canvas.root.getBoundingClientRect();
  const factor = Math.exp(-event.deltaY * WHEEL_ZOOM_RATE);
  canvas.setView(zoomAt(canvas.view, factor, { x: event.clientX - origin.left, y: event.clientY - origin.top }));
}

function pointerDown(canvas, event) {
  if (event.button !== 0) return;
  if (event.target.closest(".canvas__overlay")) return;
  if (startAnnotationGesture(canvas, event, track)) return;
  const port = event.target.closest(".port");
  const nodeElement = event.target.closest(".node");
  const edgeHit = event.target.closest("[data-edge]");
  if (!nodeElement) canvas.root.focus({ preventScroll: true });
  else nodeElement.focus({ preventScroll: true, focusVisible: false });
  if (port) return startConnect(canvas, event, port);
  if (nodeElement) return startMove(canvas, event, nodeElement.dataset.id);
  if (edgeHit) {
    event.preventDefault();
    return canvas.callbacks.onSelect({ nodes: [], edges: [edgeHit.dataset.edge] }, event.shiftKey);
  }
  if (event.shiftKey) return startBand(canvas, event);
  return startPan(canvas, event);
}

// `capture`: once the pointer really drags, that element keeps it until it is released, so the browser no
// longer hit-tests every node on each move (a cost that grew with the graph). Not before: a click or a
// double-click must still reach the node under the pointer. Not for a connection being drawn: it looks for
// the port under the pointer.
function track(event, onMove, onUp, { capture = null } = {}) {
  event.preventDefault();
  const start = { x: event.clientX, y: event.clientY };
  let moved = false;
  const move = (e) => {
    if (!moved && Math.hypot(e.clientX - start.x, e.clientY - start.y) < DRAG_THRESHOLD) return;
    if (!moved && capture) holdPointer(capture, e.pointerId);
    moved = true;
    onMove(e, { x: e.clientX - start.x, y: e.clientY - start.y });
  };
  const up = (e) => {
    window.removeEventListener("pointermove", move);
    window.removeEventListener("pointerup", up);
    onUp(e, moved, { x: e.clientX - start.x, y: e.clientY - start.y });
  };
  window.addEventListener("pointermove", move);
  window.addEventListener("pointerup", up);
}

function holdPointer(element, pointerId) {
  try {
    element.setPointerCapture(pointerId);
  } catch (error) {
    // A pointer no device is pressing (an event a script made) cannot be held: the drag goes on uncaptured.
    if (error.name !== "NotFoundError") throw error;
  }
}

function startPan(canvas, event) {
  const startView = { ...canvas.view };
  canvas.root.classList.add("is-panning");
  track(
    event,
    (_e, delta) => canvas.setView({ ...startView, x: startView.x + delta.x, y: startView.y + delta.y }),
    (_e, moved) => {
      canvas.root.classList.remove("is-panning");
      if (!moved) canvas.callbacks.onSelect({ nodes: [], edges: [] }, false);
    },
    { capture: canvas.root },
  );
}

function startMove(canvas, event, nodeId) {
  const additive = event.shiftKey || event.ctrlKey || event.metaKey;
  let ids;
  const keptGroup = canvas.state.selection.nodes.has(nodeId) && !additive;
  if (keptGroup) {
    ids = [...canvas.state.selection.nodes];
  } else {
    canvas.callbacks.onSelect({ nodes: [nodeId], edges: [] }, additive);
    ids = additive ? [...canvas.state.selection.nodes] : [nodeId];
  }
  const starts = new Map(
    canvas.graph.nodes.filter((node) => ids.includes(node.id)).map((node) => [node.id, { ...node.position }]),
  );
  const zoom = canvas.view.zoom;
  const moving = new Set(starts.keys());
  const touching = canvas.edgesTouching(moving);
  const elements = [...starts].map(([id, start]) => [canvas.nodeElements.get(id), start]).filter(([element]) => element);
  let frame = null;
  let latest = null;
  // One update per animation frame, whatever the pointer's rate; only the moved nodes and their edges.
  const paint = () => {
    frame = null;
    const shift = { x: latest.x / zoom, y: latest.y / zoom };
    for (const [element, start] of elements) {
      element.style.transform = `translate(${start.x + shift.x}px, ${start.y + shift.y}px)`;
    }
    const offsets = new Map([...moving].map((id) => [id, shift]));
    for (const edge of touching) {
      const parts = canvas.edgeElements.get(edge.id);
      const d = parts && canvas.edgeD(edge, offsets);
      if (!d) continue;
      parts.hit.setAttribute("d", d);
      parts.line.setAttribute("d", d);
    }
  };
  track(
    event,
    (_e, delta) => {
      latest = delta;
      if (frame === null) frame = requestAnimationFrame(paint);
    },
    (_e, moved, delta) => {
      if (frame !== null) cancelAnimationFrame(frame);
      if (!moved) {
        // A click (no drag) on one node of a group selection selects just that node.
        if (keptGroup && canvas.state.selection.nodes.size > 1) canvas.callbacks.onSelect({ nodes: [nodeId], edges: [] }, false);
        return;
      }
      const positions = {};
      for (const [id, start] of starts) {
        positions[id] = { x: start.x + delta.x / zoom, y: start.y + delta.y / zoom };
      }
      canvas.callbacks.onMoveEnd(positions);
    },
    { capture: canvas.root },
  );
}

function startBand(canvas, event) {
  const origin = canvas.root.getBoundingClientRect();
  const start = { x: event.clientX - origin.left, y: event.clientY - origin.top };
  track(
    event,
    (e) => {
      const now = { x: e.clientX - origin.left, y: e.clientY - origin.top };
      Object.assign(canvas.band.style, {
        left: `${Math.min(start.x, now.x)}px`,
        top: `${Math.min(start.y, now.y)}px`,
        width: `${Math.abs(now.x - start.x)}px`,
        height: `${Math.abs(now.y - start.y)}px`,
      });
      canvas.band.hidden = false;
    },
    (e, moved) => {
      canvas.band.hidden = true;
      if (!moved) return;
      const a = toWorld(canvas.view, start);
      const b = toWorld(canvas.view, { x: e.clientX - origin.left, y: e.clientY - origin.top });
      const box = { left: Math.min(a.x, b.x), right: Math.max(a.x, b.x), top: Math.min(a.y, b.y), bottom: Math.max(a.y, b.y) };
      const inside = canvas.nodeRects()
        .filter((r) => r.x >= box.left && r.x + r.width <= box.right && r.y >= box.top && r.y + r.height <= box.bottom)
        .map((r) => r.id);
      canvas.callbacks.onSelect({ nodes: inside, edges: [] }, true);
    },
    { capture: canvas.root },
  );
}

// Dragging a connection from a port: from an output to an input, or from an input back to an output.
// Dropped on empty canvas, it asks the editor for a new node to connect (onDropConnection).
function startConnect(canvas, event, port) {
  const fromSide = port.dataset.side;
  const otherSide = fromSide === "out" ? "in" : "out";
  const anchor = { node: port.dataset.node, port: port.dataset.port, type: port.dataset.type };
  const from = canvas.portCentre(anchor.node, fromSide, anchor.port);
  const fitsType = (other) =>
    fromSide === "out" ? typesCompatible(anchor.type, other, canvas.portTypes) : typesCompatible(other, anchor.type, canvas.portTypes);
  const connection = (other) =>
    fromSide === "out"
      ? { source: anchor.node, sourceHandle: anchor.port, target: other.node, targetHandle: other.port }
      : { source: other.node, sourceHandle: other.port, target: anchor.node, targetHandle: anchor.port };
  canvas.pending = document.createElementNS(SVG, "path");
  canvas.pending.classList.add("edge__pending");
  canvas.root.classList.add("is-connecting");
  const others = [...canvas.nodeLayer.querySelectorAll(`.port--${otherSide}`)];
  for (const other of others) {
    const fits = other.dataset.node !== anchor.node && fitsType(other.dataset.type);
    other.classList.add(fits ? "is-candidate" : "is-incompatible");
  }
  track(
    event,
    (e) => {
      const pointer = canvas.clientToWorld(e.clientX, e.clientY);
      canvas.pending.setAttribute("d", fromSide === "out" ? edgePath(from, pointer) : edgePath(pointer, from));
      if (!canvas.pending.isConnected) canvas.edgeLayer.append(canvas.pending);
    },
    (e, moved) => {
      canvas.pending.remove();
      canvas.pending = null;
      canvas.root.classList.remove("is-connecting");
      for (const other of others) other.classList.remove("is-candidate", "is-incompatible");
      if (!moved) return;
      const target = document.elementFromPoint(e.clientX, e.clientY);
      const hit = target && target.closest(`.port--${otherSide}, .node`);
      if (hit && hit.classList.contains("port")) {
        canvas.callbacks.onConnect(connection({ node: hit.dataset.node, port: hit.dataset.port }));
      } else if (hit && hit.dataset.id !== anchor.node) {
        // Dropped on a node's body: use its first port on the other side that takes this type.
        const candidates = [...hit.querySelectorAll(`.port--${otherSide}`)];
        const fitting = candidates.find((p) => fitsType(p.dataset.type)) || candidates[0];
        canvas.callbacks.onConnect(connection({ node: hit.dataset.id, port: fitting ? fitting.dataset.port : null }));
      } else if (!hit && target && canvas.root.contains(target) && !target.closest(".canvas__overlay")) {
        if (canvas.callbacks.onDropConnection) {
          canvas.callbacks.onDropConnection({
            side: fromSide,
            ...anchor,
            at: canvas.clientToWorld(e.clientX, e.clientY),
            clientX: e.clientX,
            clientY: e.clientY,
          });
        }
      }
    },
  );
}

function contextMenu(canvas, event) {
  if (event.target.closest(".canvas__overlay")) return;
  event.preventDefault();
  const nodeElement = event.target.closest(".node");
  const edgeHit = event.target.closest("[data-edge]");
  const where = { clientX: event.clientX, clientY: event.clientY, at: canvas.clientToWorld(event.clientX, event.clientY) };
  const note = event.target.closest(".sticky-note");
  const groupTitle = event.target.closest(".group-frame__title");
  if (nodeElement) canvas.callbacks.onContextMenu({ kind: "node", id: nodeElement.dataset.id, ...where });
  else if (note) canvas.callbacks.onContextMenu({ kind: "note", id: note.dataset.note, ...where });
  else if (groupTitle) canvas.callbacks.onContextMenu({ kind: "group", id: groupTitle.closest(".group-frame").dataset.group, ...where });
  else if (edgeHit) canvas.callbacks.onContextMenu({ kind: "edge", id: edgeHit.dataset.edge, ...where });
  else canvas.callbacks.onContextMenu({ kind: "canvas", ...where });
}

// A hovered edge shows a delete button at its middle.
function edgeHover(canvas, event) {
  const hit = event.target.closest && event.target.closest("[data-edge]");
  if (!hit || canvas.root.classList.contains("is-connecting")) return;
  clearTimeout(canvas.edgeButtonTimer);
  const length = hit.getTotalLength();
  const middle = hit.getPointAtLength(length / 2);
  canvas.edgeButton.dataset.edge = hit.dataset.edge;
  // Just above the line, so a click on the line itself still selects it.
  canvas.edgeButton.style.transform = `translate(${middle.x}px, ${middle.y - EDGE_BUTTON_LIFT}px) translate(-50%, -50%)`;
  canvas.edgeButton.hidden = false;
}

function edgeLeave(canvas) {
  clearTimeout(canvas.edgeButtonTimer);
  canvas.edgeButtonTimer = setTimeout(() => {
    if (!canvas.edgeButton.matches(":hover")) canvas.edgeButton.hidden = true;
  }, 400);
}
