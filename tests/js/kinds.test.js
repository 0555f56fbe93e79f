// The editor reads everything about a kind from its catalog entry: palette groups, icons, summaries and the port
// rules. These tests use made-up kinds, so nothing here depends on which kinds the server has.

import { CATALOG } from "./catalog.js";
import { equal, node, test, throws } from "./harness.js";
import { catalogByType, connect, graphInterface, makeCatalog } from "/static/js/graph.js";
import { holds, inputPorts, outputPorts } from "/static/js/portrules.js";
import { kindIcon, nodeSummary, paletteGroups } from "/static/js/kinds.js";

const kinds = catalogByType(CATALOG);
const names = (ports) => ports.map((port) => `${port.name}:${port.type}${port.required ? "!" : ""}`);

// A kind the editor has never heard of, with every port rule.
const GADGET = {
  type: "gadget",
  label: "Gadget",
  description: "Made up for the test.",
  palette: { group: "Gadgets", order: 5 },
  icon: "⚙",
  inputs: [{ name: "in", type: "text", required: true, multiple: false }],
  outputs: [
    { name: "out", type: "any", typeFrom: { field: "mode", oneOf: ["text", "image"], else: "text" } },
    { name: "extra", type: "json", when: { field: "extra", notNull: true } },
  ],
  inputsFrom: { placeholders: "pattern", type: "text", required: false },
  dataSchema: { type: "object", properties: { pattern: { type: "string", default: "" }, size: { type: "integer", default: 3 } } },
  summary: {
    choose: [{ when: { field: "mode", equals: "image" }, text: "Pictures of {pattern}" }, { text: "{pattern}" }, { text: "Nothing yet" }],
    append: [{ text: " · size {size}" }],
  },
  interfaceRole: "input",
};

test("conditions: notNull, notEmpty, equals and lists of them", () => {
  const data = { a: null, b: "", c: [], d: "x", e: true, f: 1, g: {} };
  equal([holds({ field: "a", notNull: true }, data), holds({ field: "missing", notNull: false }, data)], [false, true]);
  equal(["a", "b", "c", "d", "g"].map((field) => holds({ field, notEmpty: true }, data)), [false, false, false, true, false]);
  equal([holds({ field: "e", equals: true }, data), holds({ field: "f", equals: true }, data)], [true, false]);
  equal(holds([{ field: "d", notEmpty: true }, { field: "e", equals: true }], data), true);
  throws(() => holds({ field: "a" }, data), /unknown condition/);
});

test("a kind's port rules give a node's ports: when, typeFrom and placeholders", () => {
  equal(names(inputPorts(node("g", "gadget", {}), GADGET)), ["in:text!"]);
  equal(names(inputPorts(node("g", "gadget", { pattern: "{{a}} and {{b}} and {{a}}" }), GADGET)), ["in:text!", "a:text", "b:text"]);
  equal(names(outputPorts(node("g", "gadget", {}), GADGET)), ["out:text"]);
  equal(names(outputPorts(node("g", "gadget", { mode: "image", extra: {} }), GADGET)), ["out:image", "extra:json"]);
  equal(names(outputPorts(node("g", "gadget", { mode: "sound" }), GADGET)), ["out:text"]);
});

test("a placeholders rule may read several fields, and the texts in the rows of a rows field", () => {
  const caller = { ...GADGET, inputs: [], inputsFrom: { placeholders: ["pattern", "pairs"], type: "text", required: true } };
  const data = { pattern: "{{a}}/{{b}}", pairs: [{ name: "x", value: "{{b}} {{c}}" }, { name: "{{d}}", value: 3 }, "stray"] };
  equal(names(inputPorts(node("g", "gadget", data), caller)), ["a:text!", "b:text!", "c:text!", "d:text!"]);
});

test("a placeholders rule reads the text values of a field holding an object", () => {
  const caller = { ...GADGET, inputs: [], inputsFrom: { placeholders: ["arguments"], type: "any", required: true } };
  const data = { arguments: { city: "{{city}}", query: "near {{place}} {{city}}", limit: 3 } };
  equal(names(inputPorts(node("g", "gadget", data), caller)), ["city:any!", "place:any!"]);
});

test("a new kind connects through its rule ports, with the served port types", () => {
  const catalog = makeCatalog([...CATALOG.kinds, GADGET], CATALOG.portTypes);
  const graph = { nodes: [node("t", "text", { text: "hi" }), node("g", "gadget", { pattern: "{{topic}}" })], edges: [] };
  const { graph: joined } = connect(graph, catalog, { source: "t", sourceHandle: "text", target: "g", targetHandle: "topic" });
  equal(joined.edges.map((edge) => edge.targetHandle), ["topic"]);
});

test("summaries follow the kind's rule: first part that gives a text, then the appended parts", () => {
  equal(nodeSummary(node("g", "gadget", { pattern: "owls\n  at night" }), GADGET), "owls at night · size 3");
  equal(nodeSummary(node("g", "gadget", { pattern: "owls", mode: "image", size: 9 }), GADGET), "Pictures of owls · size 9");
  equal(nodeSummary(node("g", "gadget", {}), GADGET), "Nothing yet · size 3");
  const plain = { type: "plain", label: "Plain", description: "No rule.", dataSchema: { properties: {} } };
  equal(nodeSummary(node("p", "plain", { label: "x", note: "first text" }), plain), "first text");
  equal(nodeSummary(node("p", "plain", {}), plain), "No rule.");
  equal(nodeSummary(node("t", "text", { text: "" }), kinds.get("text")), "Empty text");
  equal(nodeSummary(node("i", "image", { uploadId: "u", url: null }), kinds.get("image")), "Uploaded image");
  equal(nodeSummary(node("i", "image", { uploadId: null, url: "https://x/y.png" }), kinds.get("image")), "https://x/y.png");
});

test("palette groups come in catalog order, each kind with the icon it declares", () => {
  const groups = paletteGroups([...CATALOG.kinds, GADGET, { type: "loose", label: "Loose" }]);
  equal(groups.at(-2).group, "Gadgets");
  equal(groups.at(-1), { group: "More", kinds: [{ type: "loose", label: "Loose" }] });
  equal(new Set(groups.map((group) => group.group)).size, groups.length, "each group once");
  equal([kindIcon(GADGET), kindIcon({ type: "loose" }), kindIcon(undefined)], ["⚙", "◆", "◆"]);
  equal(groups[0].kinds[0].type, CATALOG.kinds[0].type);
});

test("a kind with an interface role joins the workflow's interface, typed by its port rule", () => {
  const withGadget = new Map([...kinds, ["gadget", GADGET]]);
  const graph = { nodes: [node("g", "gadget", { name: "pic", mode: "image" }), node("o", "output", { name: "answer" })], edges: [] };
  const { inputs, outputs } = graphInterface(graph, withGadget);
  equal(inputs.map((input) => [input.name, input.type, input.required]), [["pic", "image", true]]);
  equal(outputs.map((output) => output.name), ["answer"]);
});
