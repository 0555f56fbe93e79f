import { equal, node, test } from "./harness.js";
import { addNote, groupFrame, groupNodes, groupOf, noteBlocks, removeNote, ungroup, updateNote } from "/static/js/annotations.js";
import { moveNodes, removeElements } from "/static/js/graph.js";
import { MIN_ZOOM, fitView, toScreen } from "/static/js/viewport.js";

const base = () => ({ nodes: [node("a", "text"), node("b", "debug"), node("c", "debug")], edges: [], notes: [], groups: [] });

test("notes are added with fresh ids, changed and removed; node edits keep them", () => {
  const { graph: one, note } = addNote(base(), { position: { x: 10.4, y: 20 } });
  equal(note, { id: "note-1", position: { x: 10, y: 20 }, width: 220, height: 140, text: "", color: "yellow" });
  const { graph: two, note: second } = addNote(one, { position: { x: 0, y: 0 }, color: "blue" });
  equal(second.id, "note-2");
  const edited = updateNote(two, "note-1", { text: "hi", width: 300 });
  equal(edited.notes[0].text, "hi");
  equal(moveNodes(edited, { a: { x: 5, y: 5 } }).notes, edited.notes);
  equal(removeNote(edited, "note-1").notes.map((n) => n.id), ["note-2"]);
});

test("a node joins one group at most; removing nodes empties and drops groups", () => {
  const { graph, group } = groupNodes(base(), ["b", "a"], "Inputs");
  equal(group, { id: "group-1", title: "Inputs", nodes: ["a", "b"], color: "blue" });
  const { graph: regrouped } = groupNodes(graph, ["b", "c"], "Outputs");
  equal(regrouped.groups.map((g) => [g.id, g.nodes]), [["group-1", ["a"]], ["group-2", ["b", "c"]]]);
  equal(groupOf(regrouped, "c").title, "Outputs");
  const pruned = removeElements(regrouped, { nodeIds: ["a", "b"] });
  equal(pruned.groups.map((g) => [g.id, g.nodes]), [["group-2", ["c"]]]);
  equal(ungroup(pruned, "group-2").groups, []);
});

test("a group's frame wraps its nodes with padding and a title bar", () => {
  const rects = new Map([["a", { x: 0, y: 100, width: 240, height: 120 }], ["b", { x: 300, y: 150, width: 240, height: 120 }]]);
  equal(groupFrame({ nodes: ["a", "b"] }, rects), { x: -24, y: 42, width: 588, height: 252 });
  equal(groupFrame({ nodes: ["gone"] }, rects), null);
});

test("note text is markdown-light: headings, lists, bold, italic and code, never HTML", () => {
  equal(noteBlocks("# Plan\n- **first** step\n- `code` <b>x</b>\n\n*why*"), [
    { type: "heading", spans: [{ style: "plain", text: "Plan" }] },
    { type: "list", items: [
      [{ style: "bold", text: "first" }, { style: "plain", text: " step" }],
      [{ style: "code", text: "code" }, { style: "plain", text: " <b>x</b>" }],
    ] },
    { type: "paragraph", spans: [{ style: "italic", text: "why" }] },
  ]);
});

test("fit centres in the area it is given, and shows a huge graph whole down to the minimum zoom", () => {
  const area = { x: 0, y: 0, width: 1000, height: 600 };
  const beside = fitView({ x: 0, y: 0, width: 400, height: 200 }, { ...area, x: 300, width: 700 }, 40);
  const middle = toScreen(beside, { x: 200, y: 100 });
  equal([middle.x, middle.y], [650, 300]);
  const big = fitView({ x: 0, y: 0, width: 9000, height: 4000 }, area, 40);
  const corner = toScreen(big, { x: 9000, y: 4000 });
  equal(corner.x <= 1000 && corner.y <= 600 && big.zoom >= MIN_ZOOM && big.zoom < 0.2, true);
  const huge = fitView({ x: 0, y: 0, width: 90000, height: 100 }, area, 40);
  equal(huge.zoom, MIN_ZOOM);
  equal(Math.round(toScreen(huge, { x: 45000, y: 50 }).x), 500);
});
