// Control flow in the editor: structured settings (rule rows, a JSON Schema as text), the LLM's json port,
// and why a node was skipped.
import { CATALOG } from "./catalog.js";
import { equal, node, test } from "./harness.js";
import { parseIssuePath, updateNodeData } from "/static/js/graph.js";
import { outputPorts } from "/static/js/portrules.js";
import { checkData, fieldsFor, jsonText, newRowItem, parseJsonText, rowErrors, rowItem } from "/static/js/schema.js";
import { nodeSummary } from "/static/js/kinds.js";
import { resultNote, skipReason } from "/static/js/runstate.js";

const kinds = new Map(CATALOG.kinds.map((kind) => [kind.type, kind]));
const field = (type, name) => fieldsFor(kinds.get(type).dataSchema).find((candidate) => candidate.name === name);

test("a list of objects with described items is edited as rows, any other object or list as JSON", () => {
  const rules = field("condition", "rules");
  equal(rules.widget, "rows");
  equal(rules.itemTitle, "Rule");
  equal(rules.itemFields.map((item) => [item.name, item.widget]),
    [["operator", "select"], ["value", "text"], ["path", "text"], ["negate", "checkbox"]]);
  equal(field("llm", "jsonSchema").widget, "json");
  equal(fieldsFor({ properties: { tags: { type: "array" }, meta: { type: "object" } } }).map((f) => f.widget), ["json", "json"]);
  equal(field("condition", "combine").widget, "select");
});

test("a row stores what is set and leaves unused optional settings out", () => {
  const items = field("condition", "rules").itemFields;
  equal(rowItem(items, { operator: "equals", value: "spam", path: "", negate: false }), { operator: "equals", value: "spam" });
  equal(rowItem(items, { operator: "is_empty", value: "", path: "$.label", negate: true }), { operator: "is_empty", path: "$.label", negate: true });
  equal(newRowItem(items), { operator: "equals" });
});

test("server messages inside a list are found by row", () => {
  const errors = { rules: "add at least one rule", "rules[1].value": "is required by equals", "rules[1]": "bad", "rules[10].path": "x" };
  equal(rowErrors(errors, "rules", 1), { value: "is required by equals", "": "bad" });
  equal(rowErrors(errors, "rules", 0), {});
  equal(parseIssuePath("nodes[2].data.rules[0].value"), { list: "nodes", index: 2, part: "data", field: "rules[0].value" });
});

test("JSON text parses to its value; bad JSON or the wrong type is an error and empty is null", () => {
  const schemaField = field("llm", "jsonSchema");
  equal(parseJsonText(schemaField, '{"type": "object"}'), { value: { type: "object" } });
  equal(parseJsonText(schemaField, "  "), { value: null });
  equal(parseJsonText(schemaField, "[1]"), { error: "must be an object or empty" });
  equal(Object.keys(parseJsonText(schemaField, "{oops")), ["error"]);
  equal(parseJsonText({ types: ["array"], nullable: false }, ""), { error: "is required: write JSON here" });
  equal(jsonText(null), "");
  equal(jsonText({ a: 1 }), '{\n  "a": 1\n}');
  equal(checkData(kinds.get("llm").dataSchema, { jsonSchema: [] }), { jsonSchema: "must be an object or empty" });
});

test("an LLM has its json output only with a schema, and losing the schema drops its edges", () => {
  const llm = kinds.get("llm");
  equal(outputPorts(node("l", "llm"), llm).map((port) => port.name), ["text"]);
  equal(outputPorts(node("l", "llm", { jsonSchema: { type: "object" } }), llm).map((port) => port.name), ["text", "json"]);
  const graph = {
    nodes: [node("l", "llm", { jsonSchema: { type: "object" } }), node("d", "debug")],
    edges: [{ id: "e1", source: "l", sourceHandle: "json", target: "d", targetHandle: "value" }],
  };
  equal(updateNodeData(graph, "l", { jsonSchema: { type: "array" } }, CATALOG).edges.length, 1);
  equal(updateNodeData(graph, "l", { jsonSchema: null }, CATALOG).edges, []);
});

test("a skipped node says why; other results have no skip reason", () => {
  const skipped = { status: "skipped", errorKind: "branch_not_taken", errorMessage: "output 'false' of 'c' was not taken" };
  equal(skipReason(skipped), { kind: "branch_not_taken", label: "branch not taken", detail: skipped.errorMessage });
  equal(skipReason({ status: "skipped", errorKind: "upstream_failed", errorMessage: "" }).label, "upstream failed");
  equal(skipReason({ status: "skipped", errorKind: "disabled" }).label, "disabled");
  equal(skipReason({ status: "failed", errorKind: "timeout", errorMessage: "slow" }), null);
  equal(resultNote(skipped), { kind: "skipped", text: `Skipped (branch not taken): ${skipped.errorMessage}` });
  equal(resultNote({ status: "failed", errorKind: "timeout", errorMessage: "slow" }), { kind: "error", text: "timeout: slow" });
  equal(resultNote({ status: "succeeded", output: { text: "hi" } }), null);
});

test("a Condition's summary reads its rules; an LLM's says when it answers JSON", () => {
  const condition = kinds.get("condition");
  const rules = [{ operator: "equals", path: "$.label", value: "spam" }, { operator: "is_empty", negate: true }];
  equal(nodeSummary(node("c", "condition", { combine: "all", rules }), condition), '$.label equals "spam" and not value is empty');
  equal(nodeSummary(node("c", "condition", { combine: "any", rules: rules.slice(0, 1) }), condition), '$.label equals "spam"');
  equal(nodeSummary(node("c", "condition", { rules: [] }), condition), "No rules yet");
  equal(nodeSummary(node("l", "llm", { models: ["a/m", "b/n"], jsonSchema: { type: "object" } }), kinds.get("llm")), "a/m → b/n · JSON");
  equal(nodeSummary(node("l", "llm", { models: ["a/m"], jsonSchema: null }), kinds.get("llm")), "a/m");
});
