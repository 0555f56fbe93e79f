import { equal, test } from "./harness.js";
import { newToolName, retypedTool } from "/static/js/editor/agenttools.js";

test("a tool that changes type keeps what every tool has and drops its former type's settings", () => {
  const http = { name: "look", description: "Weather", type: "http", url: "http://x/{{city}}", requiresApproval: true, onTimeout: "fail" };
  equal(JSON.stringify(retypedTool(http, "workflow")),
    JSON.stringify({ name: "look", description: "Weather", requiresApproval: true, onTimeout: "fail", type: "workflow" }));
});

test("a new tool gets a name no other tool has", () => {
  equal(newToolName([]), "tool_1");
  equal(newToolName([{ name: "tool_2" }, { name: "x" }]), "tool_3");
  equal(newToolName([{ name: "tool_2" }]), "tool_3");
});
