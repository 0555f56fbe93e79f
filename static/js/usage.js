// The usage page: the user's model calls, tokens and cost per day, model or workflow, as a table and a bar
// chart (chart.js).

import { api } from "./api.js";
import { barChart } from "./chart.js";
import { formatCost } from "./runstate.js";
import { el } from "./ui.js";

const $ = (id) => document.getElementById(id);
const KEY_TITLES = { day: "Day", model: "Model", workflow: "Workflow" };

function cells(row, header) {
  return [
    header ? el("th", { scope: "row", text: row.label }) : el("td", { text: row.label }),
    el("td", { text: row.calls.toLocaleString() }),
    el("td", { text: row.inputTokens.toLocaleString() }),
    el("td", { text: row.outputTokens.toLocaleString() }),
    el("td", {
      text: (formatCost(row.cost) || "–") + (row.unpricedCalls ? ` (${row.unpricedCalls} without a price)` : ""),
    }),
  ];
}

async function load() {
  const params = { from: $("usage-from").value, to: $("usage-to").value, groupBy: $("usage-group").value };
  let report;
  try {
    report = await api.usage(params);
  } catch (error) {
    $("usage-error").hidden = false;
    $("usage-error").textContent = `Could not load usage: ${error.message}`;
    return;
  }
  $("usage-error").hidden = true;
  $("usage-from").value = report.from;
  $("usage-to").value = report.to;
  $("usage-key").textContent = KEY_TITLES[report.groupBy];
  // An empty period is said once, in the table; the chart then draws nothing.
  const rows = report.results;
  $("usage-chart").replaceChildren(...(rows.length ? [barChart(rows, $("usage-metric").value)] : []));
  $("usage-rows").replaceChildren(
    ...(report.results.length
      ? report.results.map((row) => el("tr", {}, cells(row, true)))
      : [el("tr", {}, el("td", { colspan: 5, class: "empty", text: "No calls in this period." }))]),
  );
  $("usage-total").replaceChildren(el("tr", { class: "table__total" }, cells(report.total, true)));
  document.body.dataset.ready = "true";
}

for (const id of ["usage-from", "usage-to", "usage-group", "usage-metric"]) $(id).addEventListener("change", load);
load();
