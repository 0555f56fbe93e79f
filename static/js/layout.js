// Auto-arrange: a layered left-to-right layout by dagre (vendored), using each node's real size so that
// nodes never overlap whatever they show.

import dagre from "../vendor/dagre/dagre.esm.js";

// The size a node is taken to have before it is drawn and measured: `.node`'s CSS width, and about the
// height of a node with a summary, two rows of ports and its fixed result footer (the real height follows
// what the node shows).
export const UNMEASURED_NODE_SIZE = { width: 240, height: 190 };

// positions {nodeId: {x, y}} (top-left corners); `sizes` maps node ids to {width, height} as drawn.
export function autoLayout(graph, { sizes = new Map(), gap = 40, rankGap = 80, origin = { x: 40, y: 40 } } = {}) {
  const layout = new dagre.graphlib.Graph({ multigraph: true });
  layout.setGraph({ rankdir: "LR", nodesep: gap, ranksep: rankGap, marginx: 0, marginy: 0 });
  layout.setDefaultEdgeLabel(() => ({}));
  const ids = new Set(graph.nodes.map((node) => node.id));
  for (const node of graph.nodes) {
    const size = sizes.get(node.id) || UNMEASURED_NODE_SIZE;
    layout.setNode(node.id, { width: size.width, height: size.height });
  }
  for (const edge of graph.edges) {
    if (ids.has(edge.source) && ids.has(edge.target)) layout.setEdge(edge.source, edge.target, {}, edge.id);
  }
  dagre.layout(layout);
  const positions = {};
  for (const node of graph.nodes) {
    const placed = layout.node(node.id);
    positions[node.id] = { x: origin.x + placed.x - placed.width / 2, y: origin.y + placed.y - placed.height / 2 };
  }
  return positions;
}

// Whether any two of the rectangles {x, y, width, height} overlap (Arrange must never leave one).
export function overlaps(rects) {
  for (let i = 0; i < rects.length; i++) {
    for (let j = i + 1; j < rects.length; j++) {
      const a = rects[i];
      const b = rects[j];
      if (a.x < b.x + b.width && b.x < a.x + a.width && a.y < b.y + b.height && b.y < a.y + a.height) return true;
    }
  }
  return false;
}
