import { assert, equal, test } from "./harness.js";
import { barChart, metricOf } from "/static/js/chart.js";
import { formatCost, formatResultCost, formatTokens, nodeStatuses, planStatuses, planSummary, runCounts } from "/static/js/runstate.js";

const PLAN = {
  nodes: [
    { nodeId: "a", fate: "reuse", source: { runId: "r1", resultId: 1 } },
    { nodeId: "b", fate: "run", source: null },
    { nodeId: "c", fate: "skip", source: null },
  ],
  llmCalls: 1,
};

test("a plan marks nodes that would run and nodes that would be reused, not skipped ones", () => {
  equal(planStatuses(PLAN), { a: "reuse", b: "will-run" });
  equal(planSummary(PLAN), "1 to run, 1 reused · 1 LLM call");
  equal(planSummary({ nodes: [], llmCalls: 0 }), "0 to run, 0 reused · 0 LLM calls");
  equal(
    planSummary({ nodes: [{ nodeId: "m", fate: "run" }], llmCalls: 1, llmCallsPerItem: { m: 2 } }),
    "1 to run, 0 reused · 1 LLM call + 2 per item of m",
  );
});

test("reused results show as reused on the canvas", () => {
  const run = { status: "succeeded", nodeResults: [{ nodeId: "a", status: "reused" }] };
  equal(nodeStatuses(run, { nodes: [{ id: "a" }], edges: [] }), { a: "reused" });
});

test("a run counts what ran and what was reused, the same way everywhere", () => {
  equal(runCounts({ succeededNodes: 3, reusedNodes: 7, failedNodes: 0, skippedNodes: 0 }), "3 ran, 7 reused");
  equal(runCounts({ succeededNodes: 1, reusedNodes: 0, failedNodes: 1, skippedNodes: 2 }), "2 ran, 1 failed, 2 skipped");
});

test("a reused result shows no tokens and no cost; one that ran does", () => {
  const reused = { status: "reused", inputTokens: 0, outputTokens: 0, cost: 0 };
  equal([formatTokens(reused), formatResultCost(reused)], ["", ""]);
  const ran = { status: "succeeded", inputTokens: 7, outputTokens: 2, cost: 0 };
  equal([formatTokens(ran), formatResultCost(ran)], ["7 in / 2 out tokens", "$0"]);
});

test("costs read as dollars and an unknown price as nothing", () => {
  equal(formatCost(null), "");
  equal(formatCost(0), "$0");
  equal(formatCost(1.5), "$1.5000");
  equal(formatCost(0.000125), "$0.000125");
});

test("the usage chart draws one bar per row, the largest full width", () => {
  const rows = [
    { label: "2026-11-28", calls: 2, inputTokens: 10, outputTokens: 5, cost: 0.5 },
    { label: "2026-11-29", calls: 1, inputTokens: 1, outputTokens: 1, cost: null },
  ];
  equal(metricOf(rows[0], "tokens"), 15);
  equal(metricOf(rows[1], "cost"), 0);
  const chart = barChart(rows, "calls", { width: 500, labelWidth: 100 });
  const bars = [...chart.querySelectorAll("rect")];
  equal(bars.length, 2);
  equal(Number(bars[0].getAttribute("width")), 310);
  equal(Number(bars[1].getAttribute("width")), 155);
  assert(chart.textContent.includes("2026-11-29"), "rows are labelled");
  equal(barChart([], "cost").textContent, "No calls in this period.");
});
