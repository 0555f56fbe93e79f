// Sub-workflow and Map nodes in the editor: ports from the callee's interface, edges that no longer fit, the
// pickers' choices, the problems marked on the node, the summary, and the server's callee adopted after a save.
import { CATALOG } from "./catalog.js";
import { equal, node, test } from "./harness.js";
import { childRunName } from "/static/js/ui.js";
import {
  adoptServerCallees,
  calleeProblem,
  itemInputChoices,
  itemInput,
  provisionalCallee,
  staleCallers,
  versionChoices,
  workflowChoices,
} from "/static/js/callees.js";
import { connect, updateNodeData } from "/static/js/graph.js";
import { inputPorts, outputPorts } from "/static/js/portrules.js";
import { kindIcon, nodeSummary } from "/static/js/kinds.js";

const kinds = new Map(CATALOG.kinds.map((kind) => [kind.type, kind]));
const WRITER = "6f1c2a52-8a5e-4a57-9f4c-2f0d8e0b1a11";
const writer = provisionalCallee({
  workflowId: WRITER,
  version: 2,
  name: "Topic writer",
  inputs: [
    { name: "topic", type: "text", required: true },
    { name: "style", type: "text", required: false },
    { name: "photo", type: "image", required: false },
  ],
  outputs: [{ name: "answer" }, { name: "notes" }],
});
const caller = (type, data = {}) => node(`${type}-1`, type, { workflowId: WRITER, version: null, callee: writer, ...data });
const ports = (list) => list.map((port) => `${port.name}:${port.type}${port.required ? "!" : ""}`);

test("a Sub-workflow's ports are its callee's inputs and outputs; without a callee it has none", () => {
  const sub = caller("subworkflow");
  equal(ports(inputPorts(sub, kinds.get("subworkflow"))), ["topic:text!", "style:text", "photo:image"]);
  equal(ports(outputPorts(sub, kinds.get("subworkflow"))), ["answer:any", "notes:any"]);
  const empty = node("subworkflow-2", "subworkflow", { workflowId: null, version: null, callee: null });
  equal(inputPorts(empty, kinds.get("subworkflow")), []);
  equal(outputPorts(empty, kinds.get("subworkflow")), []);
});

test("a Map's items port feeds the item input, which is not a port; its outputs are its own", () => {
  const map = caller("map");
  equal(itemInput(map.data, "itemInput"), { name: "topic", problem: null });
  equal(ports(inputPorts(map, kinds.get("map"))), ["items:json!", "style:text", "photo:image"]);
  equal(ports(outputPorts(map, kinds.get("map"))), ["results:json", "errors:json"]);
  const byStyle = caller("map", { itemInput: "style" });
  equal(ports(inputPorts(byStyle, kinds.get("map"))), ["items:json!", "topic:text!", "photo:image"]);
  const wrong = caller("map", { itemInput: "colour" });
  equal(itemInput(wrong.data, "itemInput").problem, "the workflow has no input named 'colour' (inputs: topic, style, photo)");
  equal(ports(inputPorts(wrong, kinds.get("map"))), ["items:json!", "topic:text!", "style:text", "photo:image"]);
  equal(ports(inputPorts(node("map-2", "map", {}), kinds.get("map"))), ["items:json!"]);
});

test("calling another workflow drops the edges that no longer fit, by port name and by type", () => {
  let graph = { nodes: [node("text-1", "text", { text: "owls" }), caller("subworkflow"), node("debug-1", "debug")], edges: [] };
  graph = connect(graph, CATALOG, { source: "text-1", sourceHandle: "text", target: "subworkflow-1", targetHandle: "topic" }).graph;
  graph = connect(graph, CATALOG, { source: "text-1", sourceHandle: "text", target: "subworkflow-1", targetHandle: "style" }).graph;
  graph = connect(graph, CATALOG, { source: "subworkflow-1", sourceHandle: "answer", target: "debug-1", targetHandle: "value" }).graph;
  equal(graph.edges.length, 3);
  const other = provisionalCallee({
    workflowId: "other",
    version: 1,
    name: "Painter",
    inputs: [{ name: "topic", type: "text", required: true }, { name: "style", type: "image", required: false }],
    outputs: [{ name: "picture" }],
  });
  const data = { ...graph.nodes[1].data, workflowId: "other", callee: other };
  const next = updateNodeData(graph, "subworkflow-1", data, CATALOG);
  equal(next.edges.map((edge) => edge.targetHandle), ["topic"]);
});

test("the node says why it cannot run: nothing chosen, deleted, unpublished, unresolved, a wrong item input", () => {
  const listed = [{ id: WRITER, name: "Topic writer", publishedVersion: 2 }];
  equal(calleeProblem({ workflowId: null }, listed), { field: "workflowId", message: "choose the workflow to run" });
  equal(calleeProblem(caller("subworkflow").data, listed), null);
  equal(calleeProblem(caller("subworkflow").data, null), null, "not listed yet: the node's own callee counts");
  equal(calleeProblem(caller("subworkflow").data, []).message, "the called workflow no longer exists (deleted?): choose another");
  const unpublished = [{ id: WRITER, name: "Topic writer", publishedVersion: null }];
  equal(calleeProblem(caller("subworkflow").data, unpublished),
    { field: "version", message: "'Topic writer' is not published: publish it or choose a version" });
  equal(calleeProblem(caller("subworkflow", { version: 1 }).data, unpublished), null, "a chosen version runs unpublished");
  equal(calleeProblem(caller("subworkflow", { callee: null }).data, listed).message, "the called workflow could not be resolved");
});

test("the pickers list the other workflows by name, the published version then each version, the callee's inputs", () => {
  const workflows = [
    { id: "b", name: "Summariser", publishedVersion: null },
    { id: "self", name: "This one", publishedVersion: 1 },
    { id: "a", name: "Classifier", publishedVersion: 3 },
  ];
  equal(workflowChoices(workflows, "self"), [{ value: "a", label: "Classifier" }, { value: "b", label: "Summariser" }]);
  equal(versionChoices([1, 3, 2], 3).map((choice) => [choice.value, choice.label]),
    [[null, "Published version (v3)"], [3, "Version 3"], [2, "Version 2"], [1, "Version 1"]]);
  equal(versionChoices([], null)[0].label, "Published version (none yet)");
  equal(itemInputChoices(caller("map", { itemInput: "style" }).data, "itemInput").map((choice) => choice.label),
    ["Automatic (topic)", "topic", "style", "photo"]);
});

test("the summary names the callee and its version; both kinds have icons of their own", () => {
  equal(nodeSummary(caller("subworkflow"), kinds.get("subworkflow")), "Calls “Topic writer” (published, v2)");
  equal(nodeSummary(caller("subworkflow", { version: 1 }), kinds.get("subworkflow")), "Calls “Topic writer” (v1)");
  equal(nodeSummary(caller("map", { concurrency: 2, continueOnError: true }), kinds.get("map")),
    "Maps “Topic writer” (published, v2) · 2 at once · continues on errors");
  equal(nodeSummary(node("map-2", "map", { workflowId: null }), kinds.get("map")), "No workflow chosen");
  equal(kindIcon(kinds.get("subworkflow")), "↪");
  equal(kindIcon(kinds.get("map")), "⇶");
});

test("after a save the server's callee replaces the editor's, unless the node now calls something else", () => {
  const server = { ...writer, versionId: 7, key: "k1", pure: true };
  const graph = { nodes: [caller("subworkflow"), caller("map", { workflowId: "other" }), node("text-1", "text")], edges: [] };
  const savedNodes = [
    { ...graph.nodes[0], data: { ...graph.nodes[0].data, callee: server } },
    { ...graph.nodes[1], data: { ...graph.nodes[1].data, workflowId: WRITER, callee: server } },
    graph.nodes[2],
  ];
  const adopted = adoptServerCallees(graph, kinds, savedNodes);
  equal(adopted.nodes[0].data.callee, server);
  equal(adopted.nodes[1], graph.nodes[1], "picked again since the save: kept");
  equal(adopted.nodes[2], graph.nodes[2]);
  equal(adoptServerCallees(adopted, kinds, savedNodes), adopted);
  equal(adoptServerCallees(adopted, kinds, savedNodes) === adopted, true, "nothing new: the same graph");
});

test("a node following the published version is stale once another version is published", () => {
  const graph = {
    nodes: [caller("subworkflow"), caller("map", { version: 1 }), node("text-1", "text"), caller("subworkflow", { callee: null })],
    edges: [],
  };
  const ids = (workflows) => staleCallers(graph, kinds, workflows).map((stale) => stale.id);
  equal(ids([{ id: WRITER, publishedVersion: 2 }]), [], "v2 is what it has");
  equal(ids([{ id: WRITER, publishedVersion: 3 }]), ["subworkflow-1"], "a chosen version never goes stale");
  equal(ids([{ id: WRITER, publishedVersion: null }]), [], "unpublished: said as a problem instead");
  equal(ids([]), []);
  equal(ids(null), []);
});

test("a Map's child run is named by its item, any other by its short id", () => {
  equal(childRunName({ id: "1a2b3c4d-0000", item: 3 }), "item 3 · 1a2b3c4d");
  equal(childRunName({ id: "1a2b3c4d-0000", item: 0 }), "item 0 · 1a2b3c4d");
  equal(childRunName({ id: "1a2b3c4d-0000", item: null }), "1a2b3c4d");
});
