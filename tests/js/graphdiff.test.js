import { equal, test } from "./harness.js";
import { diffLines } from "/static/js/graphdiff.js";

const diff = {
  nodes: {
    added: [{ id: "llm-2", type: "llm" }],
    removed: [{ id: "debug-1", type: "debug" }],
    changed: [{ id: "text-1", type: "text", fields: [{ field: "data.text", old: "hi", new: "hello" }] }],
  },
  edges: { added: [{ source: "text-1", target: "llm-2" }], removed: [] },
  notes: { added: ["note-1", "note-2"], removed: [], changed: [] },
  groups: { added: [], removed: ["group-1"], changed: [] },
  labels: { "llm-2": "Summarise", "debug-1": "Debug 1", "text-1": "Article" },
};

test("a diff reads by node labels, with notes and groups counted", () => {
  equal(diffLines(diff), [
    "Added Summarise (llm)",
    "Changed Article: data.text",
    "Removed Debug 1 (debug)",
    "Connected Article → Summarise",
    "2 sticky notes added",
    "1 group removed",
  ]);
});

test("with a brief, changed fields show their old and new values; unknown ids stay ids", () => {
  const brief = (value) => JSON.stringify(value);
  equal(diffLines({ ...diff, labels: {} }, { brief })[1], 'Changed text-1 data.text: "hi" → "hello"');
});
