// Where a node added without dragging goes (a palette tap, Enter on a palette kind): beside the selected
// node and connected to it when their ports fit, else in the middle of the view; never on top of another node.

import { ConnectionRefused, addNode, connect } from "../graph.js";
import { UNMEASURED_NODE_SIZE } from "../layout.js";
import { outputPorts } from "../portrules.js";
import { edit } from "./edits.js";
import { nodeLabel, onlySelectedNode } from "./model.js";
import { portFor } from "./pickers.js";

const GAP = 40;

function clashes(spot, size, rects) {
  return rects.some((rect) =>
    spot.x < rect.x + rect.width + GAP && rect.x < spot.x + size.width + GAP &&
    spot.y < rect.y + rect.height + GAP && rect.y < spot.y + size.height + GAP);
}

// The free spot nearest to `wanted` for a node of `size` among `rects`: `wanted` itself, else the nearest
// point of a grid of node-sized steps around it that overlaps nothing.
export function freeSpot(rects, wanted, size = UNMEASURED_NODE_SIZE) {
  if (!clashes(wanted, size, rects)) return wanted;
  const stepX = size.width + GAP;
  const stepY = size.height + GAP;
  const candidates = [];
  for (let ring = 1; ring <= 12; ring += 1) {
    for (let dx = -ring; dx <= ring; dx += 1) {
      for (let dy = -ring; dy <= ring; dy += 1) {
        if (Math.max(Math.abs(dx), Math.abs(dy)) !== ring) continue;
        candidates.push({ x: wanted.x + dx * stepX, y: wanted.y + dy * stepY });
      }
    }
  }
  // Nearest first; on a tie, to the right and below (where a workflow grows).
  const distance = (spot) => Math.hypot(spot.x - wanted.x, spot.y - wanted.y);
  candidates.sort((a, b) => distance(a) - distance(b) || b.x - a.x || b.y - a.y);
  return candidates.find((spot) => !clashes(spot, size, rects)) || wanted;
}

// The first output of `source` that an input of a new node of `kind` takes: {sourceHandle, targetHandle}.
export function connectionFor(source, sourceKind, kind, portTypes) {
  for (const out of outputPorts(source, sourceKind)) {
    if (out.name === "error") continue; // an error branch is wired on purpose, never by a tap
    const port = portFor(kind, "out", out.type, portTypes);
    if (port) return { sourceHandle: out.name, targetHandle: port.name };
  }
  return null;
}

// Adds a node of `kind` in free space: right of the selected node and connected to it, or mid-view.
export function addByTap(editor, kind) {
  const { state, canvas } = editor;
  const rects = canvas.nodeRects();
  const anchor = onlySelectedNode(state);
  const anchorRect = anchor && rects.find((rect) => rect.id === anchor.id);
  const middle = canvas.middleInWorld();
  const wanted = anchorRect
    ? { x: anchorRect.x + anchorRect.width + 80, y: anchorRect.y }
    : { x: Math.round(middle.x - UNMEASURED_NODE_SIZE.width / 2), y: Math.round(middle.y - UNMEASURED_NODE_SIZE.height / 2) };
  const added = addNode(state.graph, { type: kind.type, position: freeSpot(rects, wanted) }, kind);
  let graph = added.graph;
  const ports = anchor && connectionFor(anchor, state.kinds.get(anchor.type), kind, state.catalog.portTypes);
  if (ports) {
    const connection = { source: anchor.id, target: added.node.id, ...ports };
    try {
      // One edit, so one Undo takes back both the node and its connection.
      graph = connect(graph, state.catalog, connection, (id) => nodeLabel({ ...state, graph }, id)).graph;
    } catch (error) {
      if (!(error instanceof ConnectionRefused)) throw error;
    }
  }
  state.selection = { nodes: new Set([added.node.id]), edges: new Set() };
  edit(editor, graph, { panel: true });
  // Keep the new node in view: beside its neighbour it may lie past the edge of a phone's screen.
  const centre = { x: added.node.position.x + UNMEASURED_NODE_SIZE.width / 2, y: added.node.position.y + UNMEASURED_NODE_SIZE.height / 2 };
  if (!inView(canvas, centre)) canvas.centreOn(centre);
  return added.node;
}

function inView(canvas, world) {
  const { x, y, zoom } = canvas.view;
  const { width, height } = canvas.size();
  const screen = { x: world.x * zoom + x, y: world.y * zoom + y };
  return screen.x >= 0 && screen.y >= 0 && screen.x <= width && screen.y <= height;
}
