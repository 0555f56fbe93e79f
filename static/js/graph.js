// The workflow graph model: pure functions over {nodes, edges} (React Flow's shape), plus the sticky notes and
// groups drawn beside them (annotations.js), which every edit here carries along. No DOM here.
// Every edit returns a new graph so the history can keep the old one.

import { nodeName } from "./kinds.js";
import { NAME, inputPorts, outputPorts } from "./portrules.js";

export class ConnectionRefused extends Error {}

export function cloneGraph(graph) {
  return JSON.parse(JSON.stringify({ nodes: graph.nodes || [], edges: graph.edges || [], notes: graph.notes || [], groups: graph.groups || [] }));
}

// The editor's catalog: the node kinds (GET /api/node-kinds, in palette order) and how port types connect
// (GET /api/port-types). Every function that checks a connection takes it.
export function makeCatalog(kinds, portTypes) {
  return { kinds, portTypes };
}

export function catalogByType(catalog) {
  return new Map(catalog.kinds.map((kind) => [kind.type, kind]));
}

export function nextIoName(graph, type) {
  const taken = new Set(graph.nodes.filter((node) => node.type === type).map((node) => node.data && node.data.name));
  let n = 1;
  while (taken.has(`${type}_${n}`)) n += 1;
  return `${type}_${n}`;
}

// The interface the nodes of the kinds with an `interfaceRole` declare (as engine/interface.py derives it):
// what the Run form asks for. An input's type is its node's output port's. `kinds` maps type to kind.
export function graphInterface(graph, kinds) {
  const inputs = [];
  const outputs = [];
  for (const node of graph.nodes) {
    const kind = kinds.get(node.type);
    const role = kind && kind.interfaceRole;
    const data = node.data || {};
    if (!role || !NAME.test(data.name || "")) continue;
    if (role === "input" && !inputs.some((input) => input.name === data.name)) {
      const hasDefault = data.default !== null && data.default !== undefined && data.default !== "";
      const [port] = outputPorts(node, kind);
      inputs.push({
        name: data.name,
        type: port ? port.type : "text",
        default: hasDefault ? data.default : null,
        required: typeof data.required === "boolean" ? data.required : !hasDefault,
        description: data.description || "",
      });
    } else if (role === "output" && !outputs.some((output) => output.name === data.name)) {
      outputs.push({ name: data.name, description: data.description || "" });
    }
  }
  return { inputs, outputs };
}

// engine/ports.py's types_compatible, from the rules it serves (catalog.portTypes): the same type, the
// wildcard either way, or one of the conversions.
export function typesCompatible(sourceType, targetType, portTypes) {
  return (
    sourceType === targetType ||
    sourceType === portTypes.wildcard ||
    targetType === portTypes.wildcard ||
    portTypes.conversions.some(([from, to]) => from === sourceType && to === targetType)
  );
}

export function findNode(graph, id) {
  return graph.nodes.find((node) => node.id === id);
}

export function nextNodeId(graph, type) {
  const taken = new Set(graph.nodes.map((node) => node.id));
  let n = 1;
  while (taken.has(`${type}-${n}`)) n += 1;
  return `${type}-${n}`;
}

// "Text 1" for text-1: the name a node gets when it is created (the engine derives the same for a node
// stored without one, engine.graph.display_name).
export function defaultLabel(node, kind) {
  return nodeName({ id: node.id, type: node.type, data: {} }, kind);
}

export function defaultData(kind) {
  const data = {};
  const properties = (kind && kind.dataSchema && kind.dataSchema.properties) || {};
  for (const [name, prop] of Object.entries(properties)) {
    if ("default" in prop) data[name] = prop.default;
  }
  return data;
}

export function addNode(graph, { type, position, data, id }, kind) {
  const node = {
    id: id || nextNodeId(graph, type),
    type,
    position: { x: Math.round(position.x), y: Math.round(position.y) },
    data: { ...defaultData(kind), ...(data || {}) },
  };
  // Stored, not derived on each drawing: the name a person sees ("Text 1") is the one the run page, the
  // logs and the server's messages use, and it stays when other nodes come and go.
  if (typeof node.data.label !== "string" || !node.data.label.trim()) node.data.label = defaultLabel(node, kind);
  // A node of the workflow's interface gets a name no other node of its kind has.
  if (kind && kind.interfaceRole && !node.data.name) node.data.name = nextIoName(graph, type);
  return { graph: { ...graph, nodes: [...graph.nodes, node] }, node };
}

// positions: {nodeId: {x, y}}
export function moveNodes(graph, positions) {
  return {
    ...graph,
    nodes: graph.nodes.map((node) =>
      positions[node.id]
        ? { ...node, position: { x: Math.round(positions[node.id].x), y: Math.round(positions[node.id].y) } }
        : node,
    ),
    edges: graph.edges,
  };
}

// Replaces a node's data; edges that no longer fit (a Prompt placeholder removed: see pruneDanglingEdges) go too,
// unless `prune` is false (while typing: see followPlaceholderRename).
export function updateNodeData(graph, nodeId, data, catalog, { prune = true } = {}) {
  const nodes = graph.nodes.map((node) => (node.id === nodeId ? { ...node, data: { ...data } } : node));
  return prune ? pruneDanglingEdges({ ...graph, nodes }, catalog) : { ...graph, nodes };
}

// Switches nodes off (`data.disabled: true`: the run skips them and what needs them) or back on.
export function setDisabled(graph, nodeIds, disabled) {
  const ids = new Set(nodeIds);
  const nodes = graph.nodes.map((node) => {
    if (!ids.has(node.id)) return node;
    const { disabled: _was, ...data } = node.data;
    return { ...node, data: disabled ? { ...data, disabled: true } : data };
  });
  return { ...graph, nodes };
}

// While a template whose placeholders are ports (a Prompt's) is typed, its edges are kept (a placeholder half typed is not a removed one) and
// follow a rename: when, compared with the template the typing started from, exactly one placeholder went
// and one came, the edges into the old one go into the new one. `edges` are the edges from that start; `before`
// and `after` are placeholder names.
export function followPlaceholderRename(edges, nodeId, before, after) {
  const gone = before.filter((name) => !after.includes(name));
  const added = after.filter((name) => !before.includes(name));
  if (gone.length !== 1 || added.length !== 1) return edges;
  return edges.map((edge) =>
    edge.target === nodeId && edge.targetHandle === gone[0] ? { ...edge, targetHandle: added[0] } : edge,
  );
}

// Drops the edges that no longer fit: an end gone, a port gone (a placeholder removed, another workflow called),
// or port types that no longer connect (a called workflow's input now an image).
export function pruneDanglingEdges(graph, catalog) {
  const kinds = catalogByType(catalog);
  const byId = new Map(graph.nodes.map((node) => [node.id, node]));
  const edges = graph.edges.filter((edge) => {
    const target = byId.get(edge.target);
    const source = byId.get(edge.source);
    if (!target || !source) return false;
    const into = inputPorts(target, kinds.get(target.type)).find((port) => port.name === edge.targetHandle);
    const out = outputPorts(source, kinds.get(source.type)).find((port) => port.name === edge.sourceHandle);
    if (edge.targetHandle != null && !into) return false;
    if (edge.sourceHandle != null && !out) return false;
    return !into || !out || typesCompatible(out.type, into.type, catalog.portTypes);
  });
  return edges.length === graph.edges.length ? graph : { ...graph, edges };
}

export function removeElements(graph, { nodeIds = [], edgeIds = [] }) {
  const goneNodes = new Set(nodeIds);
  const goneEdges = new Set(edgeIds);
  // A removed node leaves its group; a group left with no node goes too.
  const groups = (graph.groups || [])
    .map((group) => (group.nodes.some((id) => goneNodes.has(id)) ? { ...group, nodes: group.nodes.filter((id) => !goneNodes.has(id)) } : group))
    .filter((group) => group.nodes.length);
  return {
    ...graph,
    nodes: graph.nodes.filter((node) => !goneNodes.has(node.id)),
    edges: graph.edges.filter(
      (edge) => !goneEdges.has(edge.id) && !goneNodes.has(edge.source) && !goneNodes.has(edge.target),
    ),
    groups,
  };
}

// Whether `from` can reach `to` by following edges.
export function reaches(graph, from, to) {
  const next = new Map();
  for (const edge of graph.edges) {
    if (!next.has(edge.source)) next.set(edge.source, []);
    next.get(edge.source).push(edge.target);
  }
  const seen = new Set();
  const stack = [from];
  while (stack.length) {
    const id = stack.pop();
    if (id === to) return true;
    if (seen.has(id)) continue;
    seen.add(id);
    stack.push(...(next.get(id) || []));
  }
  return false;
}

export function wouldCreateCycle(graph, source, target) {
  return source === target || reaches(graph, target, source);
}

// Why an edge source.sourceHandle -> target.targetHandle may not be added, or null if it may.
// `nameOf(id)` names nodes in the message as people see them.
export function connectionProblem(graph, catalog, { source, sourceHandle, target, targetHandle }, nameOf = (id) => id) {
  const kinds = catalogByType(catalog);
  const from = findNode(graph, source);
  const to = findNode(graph, target);
  if (!from || !to) return "Both ends must be nodes on the canvas.";
  const out = outputPorts(from, kinds.get(from.type)).find((port) => port.name === sourceHandle);
  const into = inputPorts(to, kinds.get(to.type)).find((port) => port.name === targetHandle);
  if (!out) return `${nameOf(source)} has no output "${sourceHandle}".`;
  if (!into) return `${nameOf(target)} has no input "${targetHandle}".`;
  if (!typesCompatible(out.type, into.type, catalog.portTypes)) {
    return `Incompatible ports: ${out.type} output "${out.name}" of ${nameOf(source)} cannot feed ${into.type} input "${into.name}" of ${nameOf(target)}.`;
  }
  if (wouldCreateCycle(graph, source, target)) {
    return source === target
      ? "A node cannot be connected to itself."
      : `Refused: connecting ${nameOf(source)} to ${nameOf(target)} would close a cycle.`;
  }
  const duplicate = graph.edges.some(
    (edge) =>
      edge.source === source &&
      edge.sourceHandle === sourceHandle &&
      edge.target === target &&
      edge.targetHandle === targetHandle,
  );
  if (duplicate) return "These ports are already connected.";
  return null;
}

// Adds the edge; a single-value input that is already fed has its old edge replaced.
export function connect(graph, catalog, connection, nameOf = undefined) {
  const problem = connectionProblem(graph, catalog, connection, nameOf);
  if (problem) throw new ConnectionRefused(problem);
  const kinds = catalogByType(catalog);
  const to = findNode(graph, connection.target);
  const into = inputPorts(to, kinds.get(to.type)).find((port) => port.name === connection.targetHandle);
  const { source, sourceHandle, target, targetHandle } = connection;
  const edge = { id: edgeId(graph, connection), source, sourceHandle, target, targetHandle };
  const kept = into.multiple
    ? graph.edges
    : graph.edges.filter((e) => !(e.target === target && e.targetHandle === targetHandle));
  return { graph: { ...graph, edges: [...kept, edge] }, edge };
}

function edgeId(graph, { source, sourceHandle, target, targetHandle }) {
  const base = `e-${source}.${sourceHandle}-${target}.${targetHandle}`;
  const taken = new Set(graph.edges.map((edge) => edge.id));
  let id = base;
  let n = 2;
  while (taken.has(id)) id = `${base}-${n++}`;
  return id;
}

// The selected nodes and the edges between them, for the clipboard.
export function copySelection(graph, nodeIds) {
  const chosen = new Set(nodeIds);
  return cloneGraph({
    nodes: graph.nodes.filter((node) => chosen.has(node.id)),
    edges: graph.edges.filter((edge) => chosen.has(edge.source) && chosen.has(edge.target)),
  });
}

// Pastes a clipboard fragment with fresh ids, shifted by offset; returns the new graph and the new ids.
// `kinds` maps type to kind.
export function pasteFragment(graph, fragment, kinds, offset = { x: 40, y: 40 }) {
  let result = { ...graph, nodes: [...graph.nodes], edges: [...graph.edges] };
  const renamed = new Map();
  for (const node of fragment.nodes) {
    const id = nextNodeId(result, node.type);
    renamed.set(node.id, id);
    const copy = {
      ...JSON.parse(JSON.stringify(node)),
      id,
      position: { x: node.position.x + offset.x, y: node.position.y + offset.y },
    };
    // A copy of "Text 1" is named as its own id says ("Text 2"); a label someone chose says it is a copy.
    const kind = kinds.get(node.type);
    if (copy.data.label === defaultLabel(node, kind)) copy.data.label = defaultLabel(copy, kind);
    else if (typeof copy.data.label === "string" && copy.data.label.trim() && !/ copy( \d+)?$/.test(copy.data.label)) {
      copy.data.label = `${copy.data.label} copy`;
    }
    // A pasted node of the interface (an Input, an Output) gets a name of its own: two with one name could not run.
    if (kind && kind.interfaceRole) copy.data = { ...copy.data, name: nextIoName(result, node.type) };
    result = { ...result, nodes: [...result.nodes, copy] };
  }
  for (const edge of fragment.edges) {
    const connection = {
      source: renamed.get(edge.source),
      sourceHandle: edge.sourceHandle,
      target: renamed.get(edge.target),
      targetHandle: edge.targetHandle,
    };
    result = { ...result, edges: [...result.edges, { id: edgeId(result, connection), ...connection }] };
  }
  return { graph: result, nodeIds: [...renamed.values()] };
}

// Parses an API error path like "nodes[3].data.temperature" into {index, field}; a path inside a setting
// keeps it whole ("nodes[2].data.rules[0].value" has the field "rules[0].value").
export function parseIssuePath(path) {
  const match = /^(nodes|edges)\[(\d+)\](?:\.(\w+))?(?:\.(.+))?/.exec(path || "");
  if (!match) return null;
  const [, list, index, part, field] = match;
  return { list, index: Number(index), part: part || null, field: part === "data" ? field || null : null };
}
