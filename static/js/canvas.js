// The canvas: draws nodes, ports and edges, and holds the view (pan and zoom). Its gestures
// (canvas-gestures.js) turn the pointer into edit requests: it never edits the graph itself, it calls the
// editor's callbacks, and the editor re-renders it.

import { drawAnnotations, listenForAnnotationEdits } from "./canvas-annotations.js";
import { calleeLink, imageOf, nodeFooter, portLabel } from "./canvas-node.js";
import { listenForGestures } from "./canvas-gestures.js";
import { catalogByType } from "./graph.js";
import { inputPorts, outputPorts } from "./portrules.js";
import { isCaller } from "./callees.js";
import { kindIcon, nodeName, nodeSummary } from "./kinds.js";
import { UNMEASURED_NODE_SIZE } from "./layout.js";
import { el } from "./ui.js";
import { READABLE_ZOOM, bounds, edgePath, fitView, toWorld, zoomAt } from "./viewport.js";
import { skipReason } from "./runstate.js";

const SVG = "http://www.w3.org/2000/svg";
// A graph of at most this many nodes is never fitted below READABLE_ZOOM.
const SMALL_GRAPH = 12;
// The background's dot spacing in world pixels (the CSS default of --grid-size, at zoom 1).
export const GRID_SIZE = 24; // the dots drawn on the canvas, and what Snap to grid rounds to
// Room left around the nodes (screen pixels) when the view is fitted to them.
const FIT_MARGIN = 40;
// Below this zoom a node's text is under ~5 screen pixels, unreadable: the nodes are drawn without it
// (.canvas__world.is-far), so a frame's paint no longer grows with every visible node's text.
export const FAR_ZOOM = 0.35;

export class Canvas {
  constructor(root, { catalog, onSelect, onMoveEnd, onConnect, onViewChange, onOpen, onContextMenu, onDropConnection, onDeleteEdge, onSelectNote, onNoteChange, onGroupOpen, covers = () => [] }) {
    this.root = root;
    this.kinds = catalogByType(catalog);
    this.portTypes = catalog.portTypes;
    this.callbacks = { onSelect, onMoveEnd, onConnect, onViewChange, onOpen, onContextMenu, onDropConnection, onDeleteEdge, onSelectNote, onNoteChange, onGroupOpen };
    // The panels that may lie over the canvas (drawers on a phone): Fit and reveal() keep nodes out from under them.
    this.covers = covers;
    this.view = { x: 0, y: 0, zoom: 1 };
    this.graph = { nodes: [], edges: [] };
    this.state = { selection: { nodes: new Set(), edges: new Set() } };
    this.nodeElements = new Map();
    this.portCentres = new Map();
    // Nodes a shown version diff marks: id -> "added" | "changed" (empty when no diff is shown).
    this.changes = new Map();
    // nodeId -> what a node's size and port positions follow from (see nodeElement): same shape, same geometry.
    this.shapes = new Map();

    this.world = el("div", { class: "canvas__world" });
    // Group frames and sticky notes lie under the edges and nodes.
    this.annotationLayer = el("div", { class: "canvas__annotations" });
    this.edgeLayer = document.createElementNS(SVG, "svg");
    this.edgeLayer.classList.add("canvas__edges");
    this.nodeLayer = el("div", { class: "canvas__nodes" });
    this.world.append(this.annotationLayer, this.edgeLayer, this.nodeLayer);
    root.prepend(this.world);
    listenForGestures(this);
    listenForAnnotationEdits(this);
  }

  // ---- rendering -------------------------------------------------------------------------------
  render(graph, { selection, statuses = {}, results = {}, errors = {} }) {
    this.graph = graph;
    this.state = { selection, statuses, results, errors };
    // Re-rendering replaces the elements: keep keyboard focus on the node that had it.
    const focused = document.activeElement && document.activeElement.closest && document.activeElement.closest(".node");
    const focusedId = focused && this.nodeLayer.contains(focused) ? focused.dataset.id : null;
    const focusVisible = Boolean(focused && focused.matches(":focus-visible"));
    this.shapes = new Map();
    this.nodeLayer.replaceChildren(...graph.nodes.map((node) => this.nodeElement(node)));
    this.nodeElements = new Map(
      [...this.nodeLayer.children].map((element) => [element.dataset.id, element]),
    );
    this.sizes = new Map([...this.nodeElements].map(([id, element]) => [id, measure(element)]));
    this.measurePorts();
    this.drawEdges();
    drawAnnotations(this);
    this.applyView();
    if (focusedId && this.nodeElements.has(focusedId)) this.nodeElements.get(focusedId).focus({ preventScroll: true, focusVisible });
  }

  // Marks the nodes a version diff added or changed (`changes`: id -> "added" | "changed"), until it is
  // called again (an empty Map clears them). Kept across renders: the canvas re-creates its nodes.
  showChanges(changes) {
    this.changes = changes;
    for (const [id, element] of this.nodeElements) {
      element.classList.toggle("is-diff-added", changes.get(id) === "added");
      element.classList.toggle("is-diff-changed", changes.get(id) === "changed");
    }
  }

  // Redraws one node (its settings changed) and the edges; much cheaper than render() on big graphs.
  renderNode(graph, nodeId, { selection, statuses = {}, results = {}, errors = {} }) {
    const old = this.nodeElements.get(nodeId);
    const node = graph.nodes.find((candidate) => candidate.id === nodeId);
    if (!old || !node || graph.edges !== this.graph.edges) return this.render(graph, { selection, statuses, results, errors });
    this.graph = graph;
    this.state = { selection, statuses, results, errors };
    const shapeBefore = this.shapes.get(nodeId);
    const fresh = this.nodeElement(node);
    old.replaceWith(fresh);
    this.nodeElements.set(nodeId, fresh);
    // Typing changes a node's text, rarely its shape: measuring it anyway forced a layout per keystroke.
    if (this.shapes.get(nodeId) === shapeBefore) return;
    for (const key of [...this.portCentres.keys()]) {
      if (key.startsWith(`${nodeId}\u0000`)) this.portCentres.delete(key);
    }
    this.sizes.set(nodeId, measure(fresh));
    this.measurePorts(fresh);
    this.updateEdgesOf([nodeId]);
  }

  nodeElement(node) {
    const kind = this.kinds.get(node.type);
    const { selection, statuses, results, errors } = this.state;
    const status = statuses[node.id];
    const result = results[node.id];
    const problems = errors[node.id] || {};
    const messages = Object.entries(problems).map(([field, message]) => (field ? `${field}: ${message}` : message));
    const ins = inputPorts(node, kind);
    const outs = outputPorts(node, kind);
    const rows = [];
    for (let i = 0; i < Math.max(ins.length, outs.length); i++) {
      rows.push(
        el("div", { class: "node__row" },
          ins[i] ? portLabel(node, ins[i], "in") : el("span"),
          outs[i] ? portLabel(node, outs[i], "out") : el("span"),
        ),
      );
    }
    const title = nodeName(node, kind);
    const summary = nodeSummary(node, kind);
    const thumb = kind && kind.imageSource ? imageOf(node.data, kind.imageSource) : null;
    const caller = isCaller(node, this.kinds) && node.data.workflowId;
    // Everything else in a node has a fixed height (one-line title and summary, fixed footer) and width.
    const names = (ports) => ports.map((port) => port.name).join("\u0000");
    this.shapes.set(node.id, JSON.stringify([names(ins), names(outs), Boolean(thumb), Boolean(summary), Boolean(caller)]));
    const classes = ["node", `node--${node.type}`];
    if (selection.nodes.has(node.id)) classes.push("is-selected");
    if (status) classes.push(`status-${status}`);
    if (messages.length) classes.push("is-invalid");
    if (this.changes.has(node.id)) classes.push(`is-diff-${this.changes.get(node.id)}`);
    const disabled = node.data.disabled === true;
    if (disabled) classes.push("is-disabled");
    // A node the run skipped is dimmed (status-skipped) and says why: a branch not taken, disabled, a failure.
    const skipped = skipReason(result);
    return el(
      "div",
      {
        class: classes.join(" "),
        dataset: { id: node.id, type: node.type },
        style: `transform: translate(${node.position.x}px, ${node.position.y}px)`,
        role: "group",
        tabindex: "0",
        "aria-label": `${kind ? kind.label : node.type} node ${node.data.label || node.id}`,
        ondblclick: () => this.callbacks.onOpen && this.callbacks.onOpen(node.id),
        "aria-selected": selection.nodes.has(node.id) ? "true" : "false",
        onkeydown: (event) => {
          if (event.key === "Enter" || event.key === " ") {
            event.preventDefault();
            this.callbacks.onSelect({ nodes: [node.id], edges: [] }, event.shiftKey);
          }
        },
      },
      el("div", { class: "node__header" },
        el("span", { class: "node__icon", "aria-hidden": "true", text: kindIcon(kind) }),
        el("span", { class: "node__titles" },
          el("span", { class: "node__title", text: title, title }),
          el("span", { class: "node__kind", text: kind ? kind.label : `${node.type} (unknown)` }),
        ),
        disabled ? el("span", { class: "node__disabled badge badge--disabled", text: "disabled", title: "Disabled: the run skips this node and what needs it" }) : null,
        status ? el("span", { class: `node__status badge badge--${status}`, text: status.replace("-", " ") }) : null,
      ),
      caller
        ? el("div", { class: "node__summary node__summary--link" },
          el("span", { class: "node__summary-text", text: summary, title: summary }), calleeLink(node))
        : el("div", { class: "node__summary", text: summary, title: summary }),
      thumb ? el("img", { class: "node__thumb", src: thumb, alt: "", loading: "lazy" }) : null,
      el("div", { class: "node__ports" }, rows),
      nodeFooter({ messages, skipped, result, imageShown: Boolean(thumb) }),
    );
  }

  measurePorts(within = null) {
    if (!within) this.portCentres = new Map();
    const origin = this.root.getBoundingClientRect();
    for (const port of (within || this.nodeLayer).querySelectorAll(".port")) {
      const rect = port.getBoundingClientRect();
      const world = toWorld(this.view, {
        x: rect.left + rect.width / 2 - origin.left,
        y: rect.top + rect.height / 2 - origin.top,
      });
      this.portCentres.set(portKey(port.dataset.node, port.dataset.side, port.dataset.port), world);
    }
  }

  portCentre(nodeId, side, port) {
    return this.portCentres.get(portKey(nodeId, side, port));
  }

  // Redraws every edge (after a render). Keeps each edge's elements so a drag can move just its own.
  drawEdges() {
    this.edgeElements = new Map();
    const groups = [];
    for (const edge of this.graph.edges) {
      const d = this.edgeD(edge);
      if (!d) continue;
      const group = document.createElementNS(SVG, "g");
      group.classList.add("edge");
      if (this.state.selection.edges.has(edge.id)) group.classList.add("is-selected");
      const status = this.state.statuses && this.state.statuses[edge.source];
      if (status) group.classList.add(`status-${status}`);
      // Nothing went down an edge into a skipped node (a branch not taken): drawn as a dashed, dim line.
      if (this.state.statuses && this.state.statuses[edge.target] === "skipped") group.classList.add("is-unused");
      group.dataset.id = edge.id;
      const hit = document.createElementNS(SVG, "path");
      hit.setAttribute("d", d);
      hit.classList.add("edge__hit");
      hit.dataset.edge = edge.id;
      const line = document.createElementNS(SVG, "path");
      line.setAttribute("d", d);
      line.classList.add("edge__line");
      group.append(hit, line);
      this.edgeElements.set(edge.id, { group, hit, line, edge });
      groups.push(group);
    }
    if (this.pending) groups.push(this.pending);
    this.edgeLayer.replaceChildren(...groups);
  }

  edgeD(edge, offsets = null) {
    const from = this.portCentre(edge.source, "out", edge.sourceHandle);
    const to = this.portCentre(edge.target, "in", edge.targetHandle);
    if (!from || !to) return null;
    const shift = (nodeId, point) => {
      const delta = offsets && offsets.get(nodeId);
      return delta ? { x: point.x + delta.x, y: point.y + delta.y } : point;
    };
    return edgePath(shift(edge.source, from), shift(edge.target, to));
  }

  // Moves only the edges that touch the given nodes (a drag, a node redrawn): no cost for the rest.
  updateEdgesOf(nodeIds, offsets = null) {
    for (const edge of this.edgesTouching(nodeIds)) {
      const elements = this.edgeElements.get(edge.id);
      const d = this.edgeD(edge, offsets);
      if (!elements || !d) continue;
      elements.hit.setAttribute("d", d);
      elements.line.setAttribute("d", d);
    }
  }

  edgesTouching(nodeIds) {
    const ids = nodeIds instanceof Set ? nodeIds : new Set(nodeIds);
    return this.graph.edges.filter((edge) => ids.has(edge.source) || ids.has(edge.target));
  }

  applyView() {
    const { x, y, zoom } = this.view;
    this.world.style.transform = `translate(${x}px, ${y}px) scale(${zoom})`;
    // Changes the class only when the zoom crosses FAR_ZOOM: restyling every node is not a per-frame cost.
    this.world.classList.toggle("is-far", zoom < FAR_ZOOM);
    this.root.style.setProperty("--grid-size", `${GRID_SIZE * zoom}px`);
    this.root.style.setProperty("--zoom", String(zoom)); // touch targets keep their screen size (phone.css)
    this.root.style.backgroundPosition = `${x}px ${y}px`;
    if (this.callbacks.onViewChange) this.callbacks.onViewChange(this.view);
  }

  setView(view) {
    this.view = view;
    this.applyView();
  }

  size() {
    return { width: this.root.clientWidth, height: this.root.clientHeight };
  }

  // World rectangles of the nodes as drawn.
  nodeRects() {
    return this.graph.nodes.map((node) => {
      const size = (this.sizes && this.sizes.get(node.id)) || UNMEASURED_NODE_SIZE;
      return { id: node.id, x: node.position.x, y: node.position.y, width: size.width, height: size.height };
    });
  }

  // World sizes of the nodes as drawn, for a layout that keeps them apart.
  nodeSizes() {
    return new Map(this.nodeRects().map((rect) => [rect.id, { width: rect.width, height: rect.height }]));
  }

  middleInWorld() {
    const { width, height } = this.size();
    const origin = this.root.getBoundingClientRect();
    return this.clientToWorld(origin.left + width / 2, origin.top + height / 2);
  }

  // World rectangles of the sticky notes.
  noteRects() {
    return (this.graph.notes || []).map((note) => ({ id: note.id, x: note.position.x, y: note.position.y, width: note.width, height: note.height }));
  }

  // The graph centred in the part of the canvas no panel or overlay covers. `whole`: all of it (Fit to view);
  // otherwise (opening, Arrange) a small graph is never shrunk below a readable zoom and shows from its start.
  fit({ whole = false } = {}) {
    const rects = this.nodeRects();
    const minZoom = !whole && rects.length <= SMALL_GRAPH ? READABLE_ZOOM : undefined;
    this.setView(fitView(bounds([...rects, ...this.noteRects()]), this.clearArea(), FIT_MARGIN, minZoom));
  }

  // The view fitted to `rects` (world) in the clear area, never zoomed in past `maxZoom`.
  fitTo(rects, margin, minZoom) {
    this.setView(fitView(bounds(rects), this.clearArea(), margin, minZoom));
  }

  // The part of the canvas nothing covers (canvas coordinates, {x, y, width, height}): above the overlays
  // along its bottom (zoom buttons, minimap) and beside the drawers lying over it (the palette at the left, the
  // details at the right, on a phone). What Fit fills, so that they cover no node.
  clearArea() {
    const { width, height } = this.size();
    const box = this.root.getBoundingClientRect();
    let left = 0;
    let right = width;
    let bottom = height;
    for (const overlay of this.root.querySelectorAll(".canvas__overlay--bottom")) {
      const rect = overlay.getBoundingClientRect();
      if (rect.height > 0) bottom = Math.min(bottom, rect.top - box.top);
    }
    for (const cover of this.covers()) {
      const rect = cover && cover.getBoundingClientRect();
      if (!rect || !rect.width || rect.right <= box.left || rect.left >= box.right || rect.bottom <= box.top) continue;
      // A drawer on one side: the clear part is the wider one beside it.
      if (rect.left - box.left > box.right - rect.right) right = Math.min(right, rect.left - box.left);
      else left = Math.max(left, rect.right - box.left);
    }
    // A drawer wider than most of the canvas (a phone): fit under it rather than into a sliver.
    if (right - left < width / 3) {
      left = 0;
      right = width;
    }
    return { x: left, y: 0, width: right - left, height: bottom };
  }

  // Pans (no zoom) so that the world rectangle `rect` lies in the clear area, if it is not there already.
  reveal(rect) {
    const area = this.clearArea();
    const { zoom } = this.view;
    const screenLeft = rect.x * zoom + this.view.x;
    const screenTop = rect.y * zoom + this.view.y;
    let dx = 0;
    let dy = 0;
    if (screenLeft + rect.width * zoom > area.x + area.width) dx = area.x + area.width - (screenLeft + rect.width * zoom) - FIT_MARGIN / 2;
    if (screenLeft + dx < area.x) dx = area.x - screenLeft + FIT_MARGIN / 2;
    if (screenTop + rect.height * zoom > area.y + area.height) dy = area.y + area.height - (screenTop + rect.height * zoom) - FIT_MARGIN / 2;
    if (screenTop + dy < area.y) dy = area.y - screenTop + FIT_MARGIN / 2;
    if (dx || dy) this.setView({ ...this.view, x: this.view.x + dx, y: this.view.y + dy });
  }

  zoomBy(factor) {
    const { width, height } = this.size();
    this.setView(zoomAt(this.view, factor, { x: width / 2, y: height / 2 }));
  }

  centreOn(world) {
    const { width, height } = this.size();
    this.setView({ ...this.view, x: width / 2 - world.x * this.view.zoom, y: height / 2 - world.y * this.view.zoom });
  }

  clientToWorld(clientX, clientY) {
    const origin = this.root.getBoundingClientRect();
    return toWorld(this.view, { x: clientX - origin.left, y: clientY - origin.top });
  }

  isOverCanvas(clientX, clientY) {
    const rect = this.root.getBoundingClientRect();
    return clientX >= rect.left && clientX <= rect.right && clientY >= rect.top && clientY <= rect.bottom;
  }
}

function measure(element) {
  return { width: element.offsetWidth, height: element.offsetHeight };
}

function portKey(nodeId, side, port) {
  return `${nodeId}\u0000${side}\u0000${port}`;
}
