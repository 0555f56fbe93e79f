import { CATALOG } from "./catalog.js";
import { equal, assert, node, test, throws } from "./harness.js";
import { ConnectionRefused, addNode, connect, connectionProblem, copySelection, followPlaceholderRename, graphInterface, moveNodes, parseIssuePath, pasteFragment, removeElements, setDisabled, typesCompatible, updateNodeData, wouldCreateCycle } from "/static/js/graph.js";
import { inputPorts, outputPorts, placeholderNames } from "/static/js/portrules.js";

const kinds = new Map(CATALOG.kinds.map((kind) => [kind.type, kind]));

function chain() {
  let graph = {
    nodes: [node("t", "text"), node("p", "prompt", { template: "About {{topic}}" }), node("l", "llm"), node("d", "debug")],
    edges: [],
  };
  graph = connect(graph, CATALOG, { source: "t", sourceHandle: "text", target: "p", targetHandle: "topic" }).graph;
  graph = connect(graph, CATALOG, { source: "p", sourceHandle: "text", target: "l", targetHandle: "prompt" }).graph;
  graph = connect(graph, CATALOG, { source: "l", sourceHandle: "text", target: "d", targetHandle: "value" }).graph;
  return graph;
}

test("prompt placeholders become input ports, in order, without repeats or bad names", () => {
  equal(placeholderNames("{{a}} {{ b }} {{a}} {{1x}} {{c d}}"), ["a", "b"]);
  equal(inputPorts(node("p", "prompt", { template: "{{x}}{{y}}" }), kinds.get("prompt")).map((p) => p.name), ["x", "y"]);
});

test("addNode gives a fresh id, the schema defaults and a stored label", () => {
  const first = addNode({ nodes: [], edges: [] }, { type: "llm", position: { x: 10.4, y: 20.6 } }, kinds.get("llm"));
  const second = addNode(first.graph, { type: "llm", position: { x: 0, y: 0 } }, kinds.get("llm"));
  equal(first.node.id, "llm-1");
  equal(second.node.id, "llm-2");
  const defaults = Object.fromEntries(
    Object.entries(kinds.get("llm").dataSchema.properties).filter(([, prop]) => "default" in prop).map(([name, prop]) => [name, prop.default]),
  );
  equal(first.node.data, { ...defaults, label: "LLM 1" });
  equal(second.node.data.label, "LLM 2");
  equal(first.node.data.temperature, 0.7);
  equal(first.node.position, { x: 10, y: 21 });
});

test("connect refuses incompatible port types", () => {
  const graph = { nodes: [node("t", "text"), node("l", "llm")], edges: [] };
  throws(() => connect(graph, CATALOG, { source: "t", sourceHandle: "text", target: "l", targetHandle: "images" }), /Incompatible/);
  const named = (id) => ({ t: "Topic", l: "Writer" })[id];
  equal(
    connectionProblem(graph, CATALOG, { source: "t", sourceHandle: "text", target: "l", targetHandle: "images" }, named),
    'Incompatible ports: text output "text" of Topic cannot feed image input "images" of Writer.',
  );
});

test("connect refuses an edge that would close a cycle, and self-loops", () => {
  const graph = chain();
  assert(wouldCreateCycle(graph, "d", "p"), "d -> p closes t..d");
  assert(!wouldCreateCycle(graph, "t", "d"), "t -> d is a shortcut, not a cycle");
  const error = throws(() => connect(graph, CATALOG, { source: "d", sourceHandle: "value", target: "l", targetHandle: "system" }), /cycle/);
  assert(error instanceof ConnectionRefused);
  equal(connectionProblem(graph, CATALOG, { source: "d", sourceHandle: "value", target: "d", targetHandle: "value" }), "A node cannot be connected to itself.");
});

test("a single-value input keeps one edge; a multiple input keeps all", () => {
  let graph = { nodes: [node("a", "text"), node("b", "text"), node("i", "image"), node("j", "image"), node("l", "llm")], edges: [] };
  graph = connect(graph, CATALOG, { source: "a", sourceHandle: "text", target: "l", targetHandle: "prompt" }).graph;
  graph = connect(graph, CATALOG, { source: "b", sourceHandle: "text", target: "l", targetHandle: "prompt" }).graph;
  graph = connect(graph, CATALOG, { source: "i", sourceHandle: "image", target: "l", targetHandle: "images" }).graph;
  graph = connect(graph, CATALOG, { source: "j", sourceHandle: "image", target: "l", targetHandle: "images" }).graph;
  equal(graph.edges.filter((e) => e.targetHandle === "prompt").map((e) => e.source), ["b"]);
  equal(graph.edges.filter((e) => e.targetHandle === "images").map((e) => e.source), ["i", "j"]);
  throws(() => connect(graph, CATALOG, { source: "j", sourceHandle: "image", target: "l", targetHandle: "images" }), /already connected/);
});

test("removing a node removes its edges; edits never change the old graph", () => {
  const graph = chain();
  const next = removeElements(graph, { nodeIds: ["l"] });
  equal(next.nodes.map((n) => n.id), ["t", "p", "d"]);
  equal(next.edges.length, 1);
  equal(graph.edges.length, 3);
  const moved = moveNodes(graph, { t: { x: 5, y: 6 } });
  equal(moved.nodes[0].position, { x: 5, y: 6 });
  equal(graph.nodes[0].position, { x: 0, y: 0 });
});

test("changing a prompt template drops edges into placeholders that are gone", () => {
  const graph = chain();
  const next = updateNodeData(graph, "p", { template: "no placeholders" }, CATALOG);
  equal(next.edges.map((e) => e.target), ["l", "d"]);
});

test("copy and paste duplicates the selection with its inner edges and fresh ids", () => {
  const graph = chain();
  const clip = copySelection(graph, ["p", "l"]);
  equal(clip.edges.length, 1);
  const { graph: pasted, nodeIds } = pasteFragment(graph, clip, kinds, { x: 10, y: 10 });
  equal(nodeIds, ["prompt-1", "llm-1"]);
  equal(pasted.nodes.length, 6);
  const inner = pasted.edges.filter((e) => e.source === "prompt-1");
  equal(inner.map((e) => [e.target, e.targetHandle]), [["llm-1", "prompt"]]);
  equal(pasted.nodes[4].position, { x: 10, y: 10 });
});

test("API error paths point at a node and field", () => {
  equal(parseIssuePath("nodes[3].data.temperature"), { list: "nodes", index: 3, part: "data", field: "temperature" });
  equal(parseIssuePath("edges[1].targetHandle"), { list: "edges", index: 1, part: "targetHandle", field: null });
  equal(parseIssuePath("graph"), null);
});

test("a renamed placeholder keeps its edge; a removed one keeps it only until pruned", () => {
  const graph = chain();
  const edges = graph.edges;
  const renamed = followPlaceholderRename(edges, "p", ["topic"], ["subject"]);
  equal(renamed.find((edge) => edge.target === "p").targetHandle, "subject");
  equal(followPlaceholderRename(edges, "p", ["topic"], placeholderNames("About {{topi")), edges, "half typed: unchanged");
  equal(followPlaceholderRename(edges, "p", ["topic"], ["a", "b"]), edges, "two new names: no guess");
  const typed = updateNodeData(graph, "p", { template: "About {{" }, CATALOG, { prune: false });
  equal(typed.edges.length, 3, "kept while typing");
  equal(updateNodeData(graph, "p", { template: "About {{" }, CATALOG).edges.length, 2, "pruned when committed");
});

test("refusals name nodes as people see them", () => {
  const graph = chain();
  const names = { t: "Topic", d: "Debug 1" };
  const problem = connectionProblem(graph, CATALOG, { source: "d", sourceHandle: "value", target: "t", targetHandle: "x" }, (id) => names[id] || id);
  equal(problem, 'Topic has no input "x".');
  const cycle = connectionProblem(graph, CATALOG, { source: "d", sourceHandle: "value", target: "l", targetHandle: "system" }, (id) => ({ d: "Debug 1", l: "Writer" })[id]);
  equal(cycle, "Refused: connecting Debug 1 to Writer would close a cycle.");
});

test("port types connect as the engine allows: same type, any, and text with json either way", () => {
  const compatible = (source, target) => typesCompatible(source, target, CATALOG.portTypes);
  assert(compatible("text", "json") && compatible("json", "text"));
  assert(compatible("image", "any") && compatible("any", "image"));
  assert(compatible("image", "image") && compatible("audio", "audio"), "the same type, even one new to the editor");
  assert(!compatible("text", "image") && !compatible("json", "image"));
});

test("a pasted node named after its id is named after its new id; a chosen label says copy", () => {
  const first = addNode({ nodes: [], edges: [] }, { type: "text", position: { x: 0, y: 0 } }, kinds.get("text"));
  const chosen = addNode(first.graph, { type: "text", position: { x: 0, y: 0 }, data: { label: "Topic" } }, kinds.get("text"));
  const pasted = pasteFragment(chosen.graph, copySelection(chosen.graph, ["text-1", "text-2"]), kinds);
  equal(pasted.graph.nodes.slice(2).map((n) => [n.id, n.data.label]), [["text-3", "Text 3"], ["text-4", "Topic copy"]]);
});

test("new and pasted Input and Output nodes get names of their own", () => {
  const first = addNode({ nodes: [], edges: [] }, { type: "input", position: { x: 0, y: 0 } }, kinds.get("input"));
  const second = addNode(first.graph, { type: "input", position: { x: 0, y: 0 } }, kinds.get("input"));
  const output = addNode(second.graph, { type: "output", position: { x: 0, y: 0 } }, kinds.get("output"));
  equal([first.node.data.name, second.node.data.name, output.node.data.name], ["input_1", "input_2", "output_1"]);
  const pasted = pasteFragment(output.graph, copySelection(output.graph, [first.node.id]), kinds);
  equal(pasted.graph.nodes.at(-1).data.name, "input_3");
});

test("an Input's port has the input's type, so an image input cannot feed a prompt", () => {
  const text = node("i", "input", { name: "topic", type: "text" });
  const image = node("j", "input", { name: "photo", type: "image" });
  equal(outputPorts(text, kinds.get("input"))[0].type, "text");
  equal(outputPorts(image, kinds.get("input"))[0].type, "image");
  const graph = { nodes: [image, node("l", "llm")], edges: [] };
  assert(connectionProblem(graph, CATALOG, { source: "j", sourceHandle: "value", target: "l", targetHandle: "prompt" }));
  equal(connectionProblem(graph, CATALOG, { source: "j", sourceHandle: "value", target: "l", targetHandle: "images" }), null);
});

test("the interface lists named inputs with their derived required flag, and outputs", () => {
  const graph = {
    nodes: [
      node("a", "input", { name: "topic" }),
      node("b", "input", { name: "style", default: "plain" }),
      node("c", "input", { name: "photo", type: "image", required: false }),
      node("d", "input", { name: "topic" }),
      node("e", "input", { name: "" }),
      node("f", "input", { name: "mood", default: "" }),
      node("o", "output", { name: "answer" }),
    ],
    edges: [],
  };
  const { inputs, outputs } = graphInterface(graph, kinds);
  equal(inputs.map((input) => [input.name, input.type, input.required, input.default]), [
    ["topic", "text", true, null],
    ["style", "text", false, "plain"],
    ["photo", "image", false, null],
    ["mood", "text", true, null],
  ]);
  equal(outputs.map((output) => output.name), ["answer"]);
});

test("setDisabled switches only the named nodes off and back on, keeping their data and edges", () => {
  const graph = chain();
  const off = setDisabled(graph, ["p", "l"], true);
  equal(off.nodes.map((n) => n.data.disabled === true), [false, true, true, false]);
  equal(off.nodes[1].data.template, "About {{topic}}");
  equal(off.edges, graph.edges);
  const on = setDisabled(off, ["p"], false);
  equal(on.nodes.map((n) => "disabled" in n.data), [false, false, true, false]);
  assert(graph.nodes.every((n) => !("disabled" in n.data)), "the original graph is left as it was");
});
