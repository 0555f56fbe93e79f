import { CATALOG } from "./catalog.js";
import { equal, node, test } from "./harness.js";
import { answerText, chatShape, historyText } from "/static/js/editor/playground.js";

const kinds = new Map(CATALOG.kinds.map((kind) => [kind.type, kind]));
const edge = (source, sourceHandle, target, targetHandle) => ({ id: `${source}-${target}`, source, sourceHandle, target, targetHandle });

function chat(extra = []) {
  return {
    nodes: [
      node("m", "input", { name: "message" }),
      node("h", "input", { name: "history", required: false }),
      node("l", "llm"),
      node("o", "output", { name: "reply" }),
      ...extra,
    ],
    edges: [edge("m", "value", "l", "prompt"), edge("l", "text", "o", "value")],
  };
}

test("the playground talks to the text input, the history input and the first output, streaming its feeder", () => {
  equal(chatShape(chat(), kinds), { message: "message", history: "history", output: "reply", answerNodeId: "l" });
});

test("the playground names what a workflow lacks: a text input, an output, defaults for other inputs", () => {
  const noOutput = { nodes: [node("m", "input", { name: "message" })], edges: [] };
  equal(chatShape(noOutput, kinds).problem, "The Playground needs an Output node for the answer.");
  const imageOnly = { nodes: [node("i", "input", { name: "photo", type: "image" }), node("o", "output", { name: "x" })], edges: [] };
  equal(chatShape(imageOnly, kinds).problem, "The Playground needs a text Input node to receive each message.");
  const twoRequired = chat([node("t", "input", { name: "tone" })]);
  equal(chatShape(twoRequired, kinds).problem, "The Playground fills only the message and “history”; give “tone” a default.");
});

test("history passes the answered turns in order and leaves failed ones out", () => {
  const turns = [
    { message: "hi", answer: "hello", status: "succeeded" },
    { message: "oops", answer: "", status: "failed" },
    { message: "and?", answer: "more", status: "succeeded" },
  ];
  equal(historyText(turns), "User: hi\nAssistant: hello\n\nUser: and?\nAssistant: more");
  equal(historyText([]), "");
});

test("an answer shows text as it is and JSON indented", () => {
  equal(answerText("plain"), "plain");
  equal(answerText({ a: 1 }), '{\n  "a": 1\n}');
  equal(answerText(null), "");
});
