import { equal, test } from "./harness.js";
import { argumentText, argumentType, argumentValue, pickedToolData } from "/static/js/editor/mcppicker.js";

const FIELDS = { connection: "connection", tool: "tool", arguments: "arguments", reusable: "reusable" };

test("an argument's type reads as its schema says", () => {
  equal(argumentType({ type: "string" }), "string");
  equal(argumentType({ type: ["integer", "null"] }), "integer | null");
  equal(argumentType({ anyOf: [{ type: "number" }, { type: "null" }] }), "number | null");
  equal(argumentType({ enum: ["c", "f"] }), 'one of: "c", "f"');
  equal(argumentType({}), "any");
});

test("a row's text is stored as text for a string argument, else as its JSON value when it parses", () => {
  equal(argumentValue({ type: "string" }, "42"), "42");
  equal(argumentValue({ type: "integer" }, "42"), 42);
  equal(argumentValue({ type: "boolean" }, "true"), true);
  equal(JSON.stringify(argumentValue({ type: "array" }, "[1, 2]")), "[1,2]");
  equal(argumentValue({ type: "integer" }, "{{days}}"), "{{days}}");
  equal(argumentValue({ type: "integer" }, ""), undefined);
  equal(argumentText(3), "3");
  equal(argumentText("{{city}}"), "{{city}}");
  equal(argumentText(undefined), "");
});

test("picking a tool keeps the arguments it takes and follows its annotations for reuse", () => {
  const data = { connection: "weather", tool: "old", arguments: { city: "{{city}}", gone: 1 }, reusable: false };
  const tool = {
    name: "forecast",
    inputSchema: { properties: { city: { type: "string" }, days: { type: "integer" } } },
    annotations: { readOnlyHint: true },
  };
  const picked = pickedToolData(data, FIELDS, tool);
  equal(picked.tool, "forecast");
  equal(JSON.stringify(picked.arguments), '{"city":"{{city}}"}');
  equal(picked.reusable, true);
  equal(pickedToolData(data, FIELDS, null).reusable, false);
});
