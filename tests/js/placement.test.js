import { equal, test } from "./harness.js";
import { freeSpot } from "/static/js/editor/placement.js";

const SIZE = { width: 240, height: 120 };

test("a free spot is the wanted one when nothing is there", () => {
  equal(freeSpot([], { x: 100, y: 100 }, SIZE), { x: 100, y: 100 });
});

test("a taken spot moves to the nearest free one, never onto a node", () => {
  const rects = [{ id: "a", x: 100, y: 100, width: 240, height: 120 }];
  const spot = freeSpot(rects, { x: 100, y: 100 }, SIZE);
  equal(spot, { x: 100, y: 260 }); // one node height and a gap below: nearer than one width to the side
  const crowded = [...rects, { id: "b", x: 100, y: 260, width: 240, height: 120 }, { id: "c", x: 100, y: -60, width: 240, height: 120 }];
  const next = freeSpot(crowded, { x: 100, y: 100 }, SIZE);
  equal(next, { x: 380, y: 100 });
});
