// A horizontal bar chart of usage rows, drawn as inline SVG (no chart library, no CDN).

import { formatCost } from "./runstate.js";
import { el } from "./ui.js";

const SVG = "http://www.w3.org/2000/svg";

function svg(tag, attrs = {}, ...children) {
  const node = document.createElementNS(SVG, tag);
  for (const [key, value] of Object.entries(attrs)) node.setAttribute(key, String(value));
  node.append(...children);
  return node;
}

export function metricOf(row, metric) {
  if (metric === "tokens") return row.inputTokens + row.outputTokens;
  if (metric === "calls") return row.calls;
  return row.cost ?? 0;
}

function describe(value, metric) {
  if (metric === "cost") return formatCost(value) || "$0";
  return value.toLocaleString();
}

// One bar per row, labelled, scaled to the largest value; an empty report draws a note instead.
export function barChart(rows, metric, { width = 720, barHeight = 22, labelWidth = 200 } = {}) {
  if (!rows.length) return el("p", { class: "empty", text: "No calls in this period." });
  const largest = Math.max(...rows.map((row) => metricOf(row, metric)), 0) || 1;
  const plot = width - labelWidth - 90;
  const chart = svg("svg", {
    class: "bar-chart",
    width,
    height: rows.length * (barHeight + 6) + 6,
    viewBox: `0 0 ${width} ${rows.length * (barHeight + 6) + 6}`,
  });
  rows.forEach((row, index) => {
    const value = metricOf(row, metric);
    const y = 6 + index * (barHeight + 6);
    const length = Math.max(1, Math.round((value / largest) * plot));
    chart.append(
      svg("text", { x: labelWidth - 8, y: y + barHeight * 0.7, "text-anchor": "end", class: "bar-chart__label" }, row.label),
      svg("rect", { x: labelWidth, y, width: length, height: barHeight, rx: 3, class: "bar-chart__bar" },
        svg("title", {}, `${row.label}: ${describe(value, metric)}`)),
      svg("text", { x: labelWidth + length + 6, y: y + barHeight * 0.7, class: "bar-chart__value" }, describe(value, metric)),
    );
  });
  return chart;
}

