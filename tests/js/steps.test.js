import { assert, equal, test } from "./harness.js";
import { isTranscript, liveSteps, stepsView } from "/static/js/steps.js";

test("a transcript is a list of model and tool steps", () => {
  assert(isTranscript([{ type: "model" }, { type: "tool" }]));
  assert(!isTranscript([]));
  assert(!isTranscript([{ type: "model" }, { kind: "tool" }]));
  assert(!isTranscript({ type: "model" }));
});

test("a tool call appends a pending step and its result completes it; the node's end drops them", () => {
  let steps = new Map();
  steps = liveSteps(steps, "tool_call", { nodeId: "a", callId: "call_1", tool: "write", arguments: '{"topic":"otters"}' });
  equal(steps.get("a").length, 1);
  assert(steps.get("a")[0].pending);
  steps = liveSteps(steps, "tool_result", {
    nodeId: "a", callId: "call_1", tool: "write", result: "done", isError: false, durationMs: 12, childRunId: "c1",
  });
  equal(steps.get("a")[0].result, "done");
  equal(steps.get("a")[0].pending, false);
  equal(steps.get("a")[0].childRunId, "c1");
  const same = liveSteps(steps, "log", { nodeId: "a" });
  assert(same === steps);
  equal(liveSteps(steps, "node", { nodeId: "a", state: "finished" }).size, 0);
});

test("the steps view links a tool's child run and marks an error", () => {
  const view = stepsView([
    { type: "model", provider: "gemini", model: "m", inputTokens: 3, outputTokens: 4, text: "" },
    { type: "tool", tool: "write", arguments: {}, result: {}, childRunId: "1234567890", durationMs: 5 },
    { type: "tool", tool: "look", arguments: {}, error: "HTTP 404" },
  ]);
  equal(view.querySelectorAll("li").length, 3);
  equal(view.querySelector(".step__child").getAttribute("href"), "/runs/1234567890/");
  assert(view.querySelector(".step--error").textContent.includes("HTTP 404"));
});

test("a call that waits for a person is a waiting approval step, kept when the run waits, completed by the decision", () => {
  let steps = new Map();
  steps = liveSteps(steps, "tool_call", { nodeId: "a", callId: "call_1", tool: "look", arguments: "{}" });
  steps = liveSteps(steps, "approval_requested", {
    nodeId: "a", approvalId: "a/call_2", callId: "call_2", tool: "write", arguments: '{"topic":"otters"}',
    instructions: "The agent a wants to call the tool write", timeoutSeconds: 60,
  });
  equal(steps.get("a").map((step) => step.type).join(), "tool,approval");
  assert(steps.get("a")[1].pending);
  equal(liveSteps(steps, "approval_requested", { nodeId: "review", instructions: "Publish?" }), steps);

  steps = liveSteps(steps, "end", { status: "waiting" });
  equal(steps.get("a").length, 2);
  const view = stepsView(steps.get("a"));
  assert(view.querySelector(".step--approval").textContent.includes("waiting for approval"));
  assert(view.querySelector(".step--approval").textContent.includes("otters"));

  steps = liveSteps(steps, "approval_decided", { nodeId: "a/call_2", decision: "reject", comment: "no", who: "alice@example.com" });
  equal(steps.get("a")[1].pending, false);
  const decided = stepsView(steps.get("a")).querySelector(".step--approval").textContent;
  assert(decided.includes("rejected by alice@example.com"));
  assert(decided.includes("no"));
  equal(liveSteps(steps, "end", { status: "succeeded" }).size, 0);
});

test("a transcript's approval steps show the decision taken", () => {
  const transcript = [
    { type: "model", provider: "groq", model: "m", inputTokens: 1, outputTokens: 1, text: "" },
    { type: "approval", id: "call_1", tool: "write", arguments: {}, decision: "approve", who: "alice@example.com", comment: "" },
    { type: "tool", id: "call_1", tool: "write", arguments: {}, result: "ok" },
  ];
  assert(isTranscript(transcript));
  assert(stepsView(transcript).querySelector(".step--approval").textContent.includes("approved by alice@example.com"));
});
