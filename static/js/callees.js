// Nodes that call another workflow (their kind's `inputsFrom` follows an `interface`: Sub-workflow, Map): the
// workflow they call (`data.callee`, as workflows/callees.py resolves it) and the choices and problems that follow
// from it. Pure: no DOM, no requests, so tests import it.

// The data field a caller node's resolved callee lives in (engine/calls.py's CALLEE_KEY).
const CALLEE = "callee";

// The caller rule of a kind (its `inputsFrom` when that follows a called workflow's interface), or null.
export function callerRule(kind) {
  const rule = kind && kind.inputsFrom;
  return rule && rule.interface ? rule : null;
}

// Whether a node calls another workflow. `kinds` maps type to kind.
export function isCaller(node, kinds) {
  return Boolean(node) && Boolean(callerRule(kinds.get(node.type)));
}

// The data field choosing the callee input each item goes to (a Map's `itemInput`), or null.
export function itemInputField(kind) {
  const rule = callerRule(kind);
  return rule && rule.leaveOut ? rule.leaveOut : null;
}

// The interface of the resolved workflow in data field `field`, or null (none picked yet, or unresolved).
export function interfaceOf(data, field) {
  const resolved = data && data[field];
  return resolved && typeof resolved === "object" && resolved.interface && typeof resolved.interface === "object"
    ? resolved.interface
    : null;
}

// The resolved callee a node carries, or null (none picked yet, or the server could not resolve it).
export function calleeOf(data) {
  return interfaceOf(data, CALLEE) ? data[CALLEE] : null;
}

function specsOf(found, side) {
  return Array.isArray(found[side]) ? found[side].filter((spec) => spec && spec.name) : [];
}

// The interface input each item goes to: data field `field`, else the single required input (engine/kinds/rules.py's
// item_input). {name, problem}; both null while no workflow is resolved in data field `from`.
export function itemInput(data, field, from = CALLEE) {
  const found = interfaceOf(data, from);
  if (!found) return { name: null, problem: null };
  const specs = specsOf(found, "inputs");
  const chosen = data[field];
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

// The callee as the editor knows it right after a pick, in the server's shape (without the content key and
// purity only the server can work out; the next save or run replaces it with the server's).
export function provisionalCallee({ workflowId, version, name, inputs = [], outputs = [] }) {
  return {
    workflowId,
    version,
    name,
    interface: {
      // Types as the interface gives them (the server's, or graphInterface's from the Input nodes' ports).
      inputs: inputs.map((spec) => ({ name: spec.name, type: spec.type, required: Boolean(spec.required) })),
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
export function staleCallers(graph, kinds, workflows) {
  if (!workflows) return [];
  const published = new Map(workflows.map((workflow) => [workflow.id, workflow.publishedVersion]));
  return graph.nodes.filter((node) => {
    if (!isCaller(node, kinds) || (node.data.version ?? null) !== null) return false;
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

// The item-input select (data field `field`): the default rule, then each callee input.
export function itemInputChoices(data, field) {
  const found = interfaceOf(data, CALLEE);
  const { name } = itemInput({ ...data, [field]: null }, field);
  const automatic = name ? `Automatic (${name})` : "Automatic (the single required input)";
  const inputs = found ? specsOf(found, "inputs").map((spec) => ({ value: spec.name, label: spec.name })) : [];
  return [{ value: null, label: automatic }, ...inputs];
}

// A caller node's summary (the `callee` summary format, kinds.js): which workflow it calls, and which version,
// after `verb` ("Calls").
export function callerSummary(data, verb) {
  const callee = calleeOf(data);
  if (!data.workflowId) return "No workflow chosen";
  const name = callee ? callee.name : "a workflow that could not be resolved";
  const version = (data.version ?? null) === null
    ? callee && callee.version ? `published, v${callee.version}` : "published"
    : `v${data.version}`;
  return `${verb} “${name}” (${version})`;
}

// After a save: the server's resolved callees are the truth. Each caller node that still calls what was sent
// takes the server's `callee` (with its content key); returns the graph (the same one if nothing changed).
export function adoptServerCallees(graph, kinds, savedNodes) {
  const saved = new Map(savedNodes.map((node) => [node.id, node]));
  let changed = false;
  const nodes = graph.nodes.map((node) => {
    const server = saved.get(node.id);
    if (!isCaller(node, kinds) || !server || !server.data || !("callee" in server.data)) return node;
    const same = server.data.workflowId === node.data.workflowId && (server.data.version ?? null) === (node.data.version ?? null);
    if (!same || JSON.stringify(server.data.callee) === JSON.stringify(node.data.callee)) return node;
    changed = true;
    return { ...node, data: { ...node.data, callee: server.data.callee } };
  });
  return changed ? { ...graph, nodes } : graph;
}
