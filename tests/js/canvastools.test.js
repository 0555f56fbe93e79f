import { CATALOG } from "./catalog.js";
import { equal, node, test } from "./harness.js";
import { alignedPositions, distributedPositions, dropPositions, findNodes, snapped } from "/static/js/editor/canvas-tools.js";

const kinds = new Map(CATALOG.kinds.map((kind) => [kind.type, kind]));

test("find matches names and kinds, names that start with the words first", () => {
  const graph = { nodes: [node("text-1", "text", { label: "Summary source" }), node("llm-1", "llm", { label: "Summarize" }), node("debug-1", "debug")], edges: [] };
  equal(findNodes(graph, kinds, "summ").map((found) => found.node.id), ["text-1", "llm-1"]);
  equal(findNodes(graph, kinds, "llm").map((found) => found.node.id), ["llm-1"]);
  equal(findNodes(graph, kinds, "debug 1").map((found) => found.name), ["Debug 1"]);
  equal(findNodes(graph, kinds, "").length, 3);
});

test("align lines nodes up on the outermost edge; distribute spaces them evenly", () => {
  const rects = [
    { id: "a", x: 0, y: 10, width: 100, height: 50 },
    { id: "b", x: 150, y: 40, width: 100, height: 50 },
    { id: "c", x: 500, y: 0, width: 100, height: 50 },
  ];
  equal(alignedPositions(rects, "top"), { a: { x: 0, y: 0 }, b: { x: 150, y: 0 }, c: { x: 500, y: 0 } });
  equal(alignedPositions(rects, "left"), { a: { x: 0, y: 10 }, b: { x: 0, y: 40 }, c: { x: 0, y: 0 } });
  equal(distributedPositions(rects, "x"), { a: { x: 0, y: 10 }, b: { x: 250, y: 40 }, c: { x: 500, y: 0 } });
});

test("snap to grid rounds dropped positions to the grid, only when it is on", () => {
  const storage = new Map();
  const store = { getItem: (key) => storage.get(key) ?? null, setItem: (key, value) => storage.set(key, value) };
  const dropped = { a: { x: 37, y: 11 } };
  equal(dropPositions(dropped, store), dropped);
  store.setItem("weft.snap-to-grid", "on");
  equal(dropPositions(dropped, store), { a: { x: 48, y: 0 } });
  equal(snapped({ b: { x: -13, y: 59 } }, 24), { b: { x: -24, y: 48 } });
});
