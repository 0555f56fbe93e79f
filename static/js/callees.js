// Sub-workflow and Map nodes: the workflow they call (`data.callee`, as workflows/callees.py resolves it) and
// the ports, choices and problems that follow from it. Pure: no DOM, no requests, so tests import it.

export const CALLER_KINDS = new Set(["subworkflow", "map"]);

export function isCaller(node) {
  return Boolean(node) && CALLER_KINDS.has(node.type);
}

// The resolved callee a node carries, or null (none picked yet, or the server could not resolve it).
export function calleeOf(data) {
  const callee = data && data.callee;
  return callee && typeof callee === "object" && callee.interface && typeof callee.interface === "object"
    ? callee
    : null;
}

function calleeInputs(callee) {
  return Array.isArray(callee.interface.inputs) ? callee.interface.inputs.filter((spec) => spec && spec.name) : [];
}

function calleeOutputs(callee) {
  return Array.isArray(callee.interface.outputs) ? callee.interface.outputs.filter((spec) => spec && spec.name) : [];
}

// The callee input each Map item goes to: `itemInput`, else the callee's single required input
// (engine/kinds/subworkflow.py's item_input). {name, problem}; both null while no callee is known.
export function mapItemInput(data) {
  const callee = calleeOf(data);
  if (!callee) return { name: null, problem: null };
  const specs = calleeInputs(callee);
  const chosen = data.itemInput;
  if (chosen) {
    if (!specs.some((spec) => spec.name === chosen)) {
      const names = specs.map((spec) => spec.name).join(", ") || "none";
      return { name: null, problem: `the workflow has no input named '${chosen}' (inputs: ${names})` };
    }
    return { name: chosen, problem: null };
  }
  const required = specs.filter((spec) => spec.required).map((spec) => spec.name);
  if (required.length === 1) return { name: required[0], problem: null };
  if (!specs.length) return { name: null, problem: "the workflow has no Input node to receive the items" };
  return { name: null, problem: "choose the input that receives each item (the workflow has no single required input)" };
}

// A caller node's input ports: one per callee input (text or image, required as the callee says); a Map's
// own `items` first, and the input that receives each item left out (`items` feeds it).
export function callerInputPorts(node, kind) {
  const data = node.data || {};
  const callee = calleeOf(data);
  const own = kind.inputs || [];
  if (!callee) return own;
  const leaveOut = node.type === "map" ? mapItemInput(data).name : null;
  const ports = calleeInputs(callee)
    .filter((spec) => spec.name !== leaveOut)
    .map((spec) => ({
      name: String(spec.name),
      type: spec.type === "image" ? "image" : "text",
      required: Boolean(spec.required),
      multiple: false,
    }));
  return [...own, ...ports];
}

// A Sub-workflow's outputs are the callee's Output nodes (any type); a Map's are its own results and errors.
export function callerOutputPorts(node, kind) {
  const callee = calleeOf(node.data);
  if (node.type !== "subworkflow" || !callee) return kind.outputs || [];
  return calleeOutputs(callee).map((spec) => ({ name: String(spec.name), type: "any" }));
}

// The callee as the editor knows it right after a pick, in the server's shape (without the content key and
// purity only the server can work out; the next save or run replaces it with the server's).
export function provisionalCallee({ workflowId, version, name, inputs = [], outputs = [] }) {
  return {
    workflowId,
    version,
    name,
    interface: {
      inputs: inputs.map((spec) => ({ name: spec.name, type: spec.type === "image" ? "image" : "text", required: Boolean(spec.required) })),
      outputs: outputs.map((spec) => ({ name: spec.name })),
    },
  };
}

// Why this caller node cannot run as it stands, or null. `workflows` is the user's workflows
// ([{id, name, publishedVersion}]) or null while not loaded (then only what the node itself says counts).
export function calleeProblem(data, workflows) {
  if (!data || !data.workflowId) return { field: "workflowId", message: "choose the workflow to run" };
  const listed = workflows ? workflows.find((workflow) => workflow.id === data.workflowId) : undefined;
  if (workflows && !listed) {
    return { field: "workflowId", message: "the called workflow no longer exists (deleted?): choose another" };
  }
  if (listed && (data.version ?? null) === null && listed.publishedVersion === null) {
    return { field: "version", message: `'${listed.name}' is not published: publish it or choose a version` };
  }
  if (!calleeOf(data)) return { field: "workflowId", message: "the called workflow could not be resolved" };
  if (data.callee.workflowId !== data.workflowId) {
    return { field: "workflowId", message: "the called workflow could not be resolved" };
  }
  return null;
}

// The caller nodes whose callee was published again since it was resolved: they follow "Published version"
// (no version of their own) and carry another version's interface than the one published now.
export function staleCallers(graph, workflows) {
  if (!workflows) return [];
  const published = new Map(workflows.map((workflow) => [workflow.id, workflow.publishedVersion]));
  return graph.nodes.filter((node) => {
    if (!isCaller(node) || (node.data.version ?? null) !== null) return false;
    const callee = calleeOf(node.data);
    const now = published.get(node.data.workflowId);
    return Boolean(callee) && now !== undefined && now !== null && callee.version !== now;
  });
}

// The workflow select's choices: every other workflow of the user, by name (the one edited cannot call itself).
export function workflowChoices(workflows, selfId) {
  return workflows
    .filter((workflow) => workflow.id !== selfId)
    .map((workflow) => ({ value: workflow.id, label: workflow.name }))
    .sort((a, b) => a.label.localeCompare(b.label) || a.value.localeCompare(b.value));
}

// The version select's choices: the published version (null), then each saved version, newest first.
export function versionChoices(versionNumbers, publishedVersion) {
  const published = publishedVersion === null || publishedVersion === undefined
    ? "Published version (none yet)"
    : `Published version (v${publishedVersion})`;
  const numbers = [...new Set(versionNumbers)].sort((a, b) => b - a);
  return [{ value: null, label: published }, ...numbers.map((number) => ({ value: number, label: `Version ${number}` }))];
}

// The Map's item-input select: the default rule, then each callee input.
export function itemInputChoices(data) {
  const callee = calleeOf(data);
  const { name } = mapItemInput({ ...data, itemInput: null });
  const automatic = name ? `Automatic (${name})` : "Automatic (the single required input)";
  const inputs = callee ? calleeInputs(callee).map((spec) => ({ value: spec.name, label: spec.name })) : [];
  return [{ value: null, label: automatic }, ...inputs];
}

// The node's summary line: which workflow it calls, and which version.
export function callerSummary(node) {
  const data = node.data || {};
  const callee = calleeOf(data);
  if (!data.workflowId) return "No workflow chosen";
  const name = callee ? callee.name : "a workflow that could not be resolved";
  const version = (data.version ?? null) === null
    ? callee && callee.version ? `published, v${callee.version}` : "published"
    : `v${data.version}`;
  const text = `${node.type === "map" ? "Maps" : "Calls"} “${name}” (${version})`;
  if (node.type !== "map") return text;
  return `${text} · ${data.concurrency ?? 4} at once${data.continueOnError ? " · continues on errors" : ""}`;
}

// After a save: the server's resolved callees are the truth. Each caller node that still calls what was sent
// takes the server's `callee` (with its content key); returns the graph (the same one if nothing changed).
export function adoptServerCallees(graph, savedNodes) {
  const saved = new Map(savedNodes.map((node) => [node.id, node]));
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    const server = saved.get(node.id);
    if (!isCaller(node) || !server || !server.data || !("callee" in server.data)) return node;
    const same = server.data.workflowId === node.data.workflowId && (server.data.version ?? null) === (node.data.version ?? null);
    if (!same || JSON.stringify(server.data.callee) === JSON.stringify(node.data.callee)) return node;
    changed = true;
    return { ...node, data: { ...node.data, callee: server.data.callee } };
  });
  return changed ? { nodes, edges: graph.edges } : graph;
}
