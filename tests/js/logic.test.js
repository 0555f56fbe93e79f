import { CATALOG } from "./catalog.js";
import { assert, equal, node, test } from "./harness.js";
import { History } from "/static/js/history.js";
import { autoLayout, overlaps } from "/static/js/layout.js";
import { checkData, fieldsFor, parseInput } from "/static/js/schema.js";
import { fitView, toScreen, toWorld, zoomAt } from "/static/js/viewport.js";
import { nodeStatuses, outputPreview, formatDuration, truncationNote } from "/static/js/runstate.js";
import { pollRun } from "/static/js/poll.js";
import { followRun, liveTexts, openRunStream } from "/static/js/run-stream.js";

test("history undoes and redoes in order, and a new edit clears redo", () => {
  const history = new History();
  let state = { n: 1 };
  history.record(state);
  state = { n: 2 };
  history.record(state);
  state = { n: 3 };
  state = history.undo(state);
  equal(state, { n: 2 });
  state = history.undo(state);
  equal(state, { n: 1 });
  equal(history.undo(state), null);
  state = history.redo(state);
  equal(state, { n: 2 });
  history.record(state);
  state = { n: 9 };
  assert(!history.canRedo, "a new edit drops the redo stack");
});

test("history snapshots are not changed by later edits and the stack is bounded", () => {
  const history = new History(3);
  const graph = { nodes: [{ id: "a" }] };
  history.record(graph);
  graph.nodes.push({ id: "b" });
  equal(history.undo(graph), { nodes: [{ id: "a" }] });
  for (let i = 0; i < 10; i++) history.record({ i });
  equal(history.past.length, 3);
});

test("auto-arrange places each node right of its inputs", () => {
  const graph = {
    nodes: [node("d", "debug"), node("l", "llm"), node("t", "text"), node("s", "text"), node("p", "prompt")],
    edges: [
      { source: "t", target: "p" }, { source: "s", target: "l" }, { source: "p", target: "l" }, { source: "l", target: "d" },
    ],
  };
  const at = autoLayout(graph);
  assert(at.t.x < at.p.x && at.p.x < at.l.x && at.l.x < at.d.x, JSON.stringify(at));
  assert(at.s.x < at.l.x, "every source is left of what it feeds");
  const rects = Object.values(at).map((p) => ({ ...p, width: 240, height: 120 }));
  assert(!overlaps(rects), "no two nodes overlap");
});

test("arrange keeps tall nodes apart using their real sizes", () => {
  const graph = { nodes: [node("a", "text"), node("b", "text"), node("c", "text"), node("z", "debug")], edges: [
    { id: "1", source: "a", target: "z" }, { id: "2", source: "b", target: "z" }, { id: "3", source: "c", target: "z" }] };
  const sizes = new Map([["a", { width: 240, height: 400 }], ["b", { width: 240, height: 90 }], ["c", { width: 300, height: 250 }], ["z", { width: 240, height: 90 }]]);
  const at = autoLayout(graph, { sizes });
  const rects = Object.entries(at).map(([id, p]) => ({ ...p, ...sizes.get(id) }));
  assert(!overlaps(rects), JSON.stringify(rects));
  assert(at.z.x >= at.c.x + 300, "the next layer starts after the widest node of the previous one");
});

test("schema fields pick widgets; checkData mirrors the engine's messages", () => {
  const llm = CATALOG.kinds.find((kind) => kind.type === "llm");
  const fields = fieldsFor(llm.dataSchema);
  const widgets = Object.fromEntries(fields.map((f) => [f.name, f.widget]));
  equal([widgets.temperature, widgets.maxOutputTokens, widgets.systemPrompt], ["number", "integer", "textarea"]);
  equal(widgets.models, "chain");
  equal(checkData(llm.dataSchema, { temperature: 3, maxOutputTokens: 1.5 }), {
    temperature: "must be at most 2",
    maxOutputTokens: "must be an integer",
  });
  equal(checkData(llm.dataSchema, { temperature: "hot" }), { temperature: "must be a number" });
  const temperature = fields.find((f) => f.name === "temperature");
  equal(parseInput(temperature, "0.5"), 0.5);
  equal(parseInput(temperature, "abc"), "abc");
});

test("zooming keeps the point under the cursor still; fit shows every node", () => {
  const view = { x: 10, y: 20, zoom: 1 };
  const anchor = { x: 200, y: 150 };
  const before = toWorld(view, anchor);
  const after = zoomAt(view, 1.5, anchor);
  equal(toWorld(after, anchor), before);
  const fitted = fitView({ x: 0, y: 0, width: 2000, height: 1000 }, { width: 1000, height: 600 }, 50);
  const corner = toScreen(fitted, { x: 2000, y: 1000 });
  assert(corner.x <= 1000 && corner.y <= 600 && fitted.zoom < 1, JSON.stringify(fitted));
});

test("run state: results win; in a running run, ready nodes are running and the rest queued", () => {
  const graph = { nodes: [node("a", "text"), node("b", "llm"), node("c", "debug")], edges: [{ source: "a", target: "b" }, { source: "b", target: "c" }] };
  const run = { status: "running", scope: "full", nodeResults: [{ nodeId: "a", status: "succeeded" }] };
  equal(nodeStatuses(run, graph), { a: "succeeded", b: "running", c: "queued" });
  equal(nodeStatuses({ ...run, status: "failed" }, graph), { a: "succeeded" });
  const single = { status: "running", scope: "node", nodeIds: ["b"], nodeResults: [] };
  equal(nodeStatuses(single, graph), { a: "running", b: "queued" });
  const handled = { status: "succeeded", nodeResults: [{ nodeId: "b", status: "failed", handled: true }] };
  equal(nodeStatuses(handled, graph), { b: "handled" });
  equal(outputPreview({ text: "hello" }), "hello");
  equal(formatDuration(1500), "1.5 s");
});

test("an output the run detail cut gets a note with its whole size; a whole one gets none", () => {
  equal(truncationNote({ outputTruncated: true, outputBytes: 90012 }), "Cut to fit: the whole output is 90,012 bytes.");
  equal(truncationNote({ outputTruncated: false, outputBytes: 12 }), null);
  equal(truncationNote(undefined), null);
});

test("polling stops once the run is finished and never asks more than once a second", async () => {
  const calls = [];
  const statuses = ["queued", "running", "succeeded"];
  const updates = [];
  await new Promise((resolve) => {
    pollRun(async (id) => {
      calls.push(Date.now());
      return { id, status: statuses[calls.length - 1] };
    }, "r1", (run) => {
      updates.push(run.status);
      if (run.status === "succeeded") setTimeout(resolve, 300);
    }, { interval: 100 });
  });
  equal(updates, ["queued", "running", "succeeded"]);
  equal(calls.length, 3);
  for (let i = 1; i < calls.length; i++) assert(calls[i] - calls[i - 1] >= 95, "requests are spaced by the interval");
});

test("live texts append tokens, clear on reset and restart, and drop a node once it has finished", () => {
  let texts = new Map();
  texts = liveTexts(texts, "node", { state: "started", nodeId: "b" });
  texts = liveTexts(texts, "token", { nodeId: "b", text: "Hel" });
  texts = liveTexts(texts, "token", { nodeId: "b", text: "lo" });
  equal([...texts], [["b", "Hello"]]);
  texts = liveTexts(texts, "reset", { nodeId: "b" });
  texts = liveTexts(texts, "token", { nodeId: "b", text: "Hi" });
  equal([...texts], [["b", "Hi"]]);
  const before = texts;
  assert(liveTexts(texts, "log", { nodeId: "b", message: "x" }) === before, "other events change nothing");
  texts = liveTexts(texts, "node", { state: "finished", nodeId: "b", result: {} });
  equal([...texts], []);
});

class FakeSource {
  static last = null;
  constructor(url) {
    this.url = url;
    this.listeners = {};
    this.readyState = 0;
    this.closed = false;
    FakeSource.last = this;
  }
  addEventListener(type, fn) {
    (this.listeners[type] ||= []).push(fn);
  }
  fire(type, event = {}) {
    for (const fn of this.listeners[type] || []) fn(event);
  }
  close() {
    this.closed = true;
    this.readyState = 2;
  }
}

test("a run stream hands over its events in order, closes after end, and says when it cannot be used", () => {
  const seen = [];
  let unavailable = 0;
  openRunStream("/api/runs/r/events", {
    onEvent: (type, data, id) => seen.push([type, data, id]),
    onUnavailable: () => unavailable++,
    EventSourceImpl: FakeSource,
  });
  const source = FakeSource.last;
  source.fire("open");
  source.fire("token", { data: '{"nodeId":"b","text":"x"}', lastEventId: "1-0" });
  source.fire("error");  // a dropped connection after it opened: the browser reconnects by itself
  source.fire("end", { data: '{"status":"succeeded"}', lastEventId: "2-0" });
  equal(seen, [["token", { nodeId: "b", text: "x" }, "1-0"], ["end", { status: "succeeded" }, "2-0"]]);
  assert(source.closed && unavailable === 0, "closed after end, never unavailable");

  openRunStream("/api/runs/r/events", { onEvent: () => {}, onUnavailable: () => unavailable++, EventSourceImpl: FakeSource });
  FakeSource.last.fire("error");  // refused before it opened
  assert(FakeSource.last.closed && unavailable === 1, "refused: closed and unavailable");
  openRunStream("/api/runs/r/events", { onEvent: () => {}, onUnavailable: () => unavailable++, EventSourceImpl: null });
  equal(unavailable, 2);
});

test("following a run shows each run event's status at once, fetches the detail one at a time, and streams text", async () => {
  const details = [];
  const live = [];
  let release;
  const fetches = [];
  const getRun = (id) => {
    fetches.push(id);
    return new Promise((resolve) => (release = resolve));
  };
  const follower = followRun({ id: "r", status: "queued", nodeResults: [] }, {
    getRun,
    eventsUrl: "/api/runs/r/events",
    onRun: (run) => details.push(run),
    onLive: (texts) => live.push(Object.fromEntries(texts)),
    EventSourceImpl: FakeSource,
  });
  const source = FakeSource.last;
  source.fire("open");
  source.fire("run", { data: '{"status":"running","succeededNodes":0}' });
  equal(details.map((d) => [d.id, d.status]), [["r", "running"]], "the status shows before any fetch");
  source.fire("node", { data: '{"state":"finished","nodeId":"a","result":{"nodeId":"a","status":"succeeded"}}' });
  equal(details.at(-1).nodeResults, [{ nodeId: "a", status: "succeeded" }], "a finished node shows before any fetch");
  source.fire("node", { data: '{"state":"started","nodeId":"b"}' });
  source.fire("token", { data: '{"nodeId":"b","text":"Hel"}' });
  source.fire("token", { data: '{"nodeId":"b","text":"lo"}' });
  equal(live.at(-1), { b: "Hello" });
  equal(fetches, ["r"], "one fetch in flight; the events during it ask for one more");
  release({ id: "r", status: "running", nodeResults: [] });
  await new Promise((resolve) => setTimeout(resolve, 0));
  equal(fetches, ["r", "r"]);
  equal(details.at(-1).nodeResults.map((r) => r.nodeId), ["a"], "a detail written before the result keeps it");
  source.fire("end", { data: '{"status":"succeeded"}' });
  assert(details.at(-1).status !== "succeeded", "an ended run waits for its whole detail");
  release({ id: "r", status: "running", nodeResults: [] });
  await new Promise((resolve) => setTimeout(resolve, 0));
  release({ id: "r", status: "succeeded", nodeResults: [{ nodeId: "b" }] });
  await new Promise((resolve) => setTimeout(resolve, 0));
  equal(details.at(-1).status, "succeeded");
  equal(live.at(-1), {});
  follower.stop();
  assert(source.closed, "stopped: the stream is closed");
});
