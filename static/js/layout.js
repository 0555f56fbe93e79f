// Auto-arrange: a layered left-to-right layout (longest path from the sources, barycentre ordering).

export function autoLayout(graph, { columnGap = 300, rowGap = 160, origin = { x: 40, y: 40 } } = {}) {
  const ids = graph.nodes.map((node) => node.id);
  const incoming = new Map(ids.map((id) => [id, []]));
  const outgoing = new Map(ids.map((id) => [id, []]));
  for (const edge of graph.edges) {
    if (!incoming.has(edge.target) || !outgoing.has(edge.source)) continue;
    incoming.get(edge.target).push(edge.source);
    outgoing.get(edge.source).push(edge.target);
  }
  // Kahn's order; nodes left over (a cycle, which the editor refuses anyway) go last.
  const remaining = new Map(ids.map((id) => [id, incoming.get(id).length]));
  const queue = ids.filter((id) => remaining.get(id) === 0);
  const order = [];
  while (queue.length) {
    const id = queue.shift();
    order.push(id);
    for (const next of outgoing.get(id)) {
      remaining.set(next, remaining.get(next) - 1);
      if (remaining.get(next) === 0) queue.push(next);
    }
  }
  for (const id of ids) if (!order.includes(id)) order.push(id);

  const layer = new Map();
  for (const id of order) {
    const parents = incoming.get(id).filter((parent) => layer.has(parent));
    layer.set(id, parents.length ? Math.max(...parents.map((parent) => layer.get(parent))) + 1 : 0);
  }
  const columns = [];
  for (const id of order) {
    const column = layer.get(id);
    (columns[column] ||= []).push(id);
  }
  const rowOf = new Map();
  const byY = new Map(graph.nodes.map((node) => [node.id, node.position ? node.position.y : 0]));
  columns.forEach((column, index) => {
    if (index === 0) {
      column.sort((a, b) => byY.get(a) - byY.get(b));
    } else {
      const centre = (id) => {
        const parents = incoming.get(id).filter((parent) => rowOf.has(parent));
        if (!parents.length) return Number.MAX_SAFE_INTEGER;
        return parents.reduce((sum, parent) => sum + rowOf.get(parent), 0) / parents.length;
      };
      column.sort((a, b) => centre(a) - centre(b));
    }
    column.forEach((id, row) => rowOf.set(id, row));
  });
  const tallest = Math.max(0, ...columns.map((column) => column.length));
  const positions = {};
  columns.forEach((column, index) => {
    // Centre shorter columns against the tallest one so chains line up.
    const shift = ((tallest - column.length) * rowGap) / 2;
    column.forEach((id, row) => {
      positions[id] = { x: origin.x + index * columnGap, y: origin.y + shift + row * rowGap };
    });
  });
  return positions;
}
