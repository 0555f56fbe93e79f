// The Experiments page of a workflow: upload and view datasets, evaluate a version, the experiments with
// their aggregates and a chart over time, one experiment's rows (filter: failed), and two compared side by
// side (filter: regressed) with the diff of their versions.

import { api } from "./api.js";
import { barChart } from "./chart.js";
import { diffLines } from "./graphdiff.js";
import { el, formatDate, readJsonScript, statusBadge, toast } from "./ui.js";

const $ = (id) => document.getElementById(id);
const workflow = readJsonScript("experiments-bootstrap");
const POLL_MS = 1000;
const state = { experiments: [], chosen: [], shown: null, comparison: null, polling: null };

function showError(error) {
  $("experiments-error").hidden = false;
  $("experiments-error").textContent = error.message;
}

const percent = (value) => (value === null || value === undefined ? "–" : `${Math.round(value * 1000) / 10}%`);
const brief = (value) => {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > 80 ? `${text.slice(0, 79)}…` : text;
};

// Datasets --------------------------------------------------------------------------------

async function loadDatasets(selectId) {
  const page = await api.listDatasets();
  const select = $("experiment-dataset");
  select.replaceChildren(
    ...page.results.map((dataset) =>
      el("option", { value: dataset.id, text: `${dataset.name} (${dataset.rowCount} rows)` }),
    ),
  );
  if (selectId) select.value = selectId;
  if (select.value) await showRows(select.value);
}

async function showRows(datasetId) {
  const page = await api.datasetRows(datasetId);
  $("dataset-rows").replaceChildren(
    ...page.results.map((row) =>
      el("tr", {},
        el("td", { text: String(row.index) }),
        el("td", { text: brief(row.inputs) }),
        el("td", { text: brief(row.expected) }),
      ),
    ),
  );
}

async function uploadDataset(event) {
  event.preventDefault();
  const file = $("dataset-file").files[0];
  try {
    const dataset = await api.createDataset({ name: $("dataset-name").value });
    const filled = await api.addDatasetRows(dataset.id, file);
    toast(`Dataset “${filled.name}”: ${filled.rowCount} rows.`, "success", 3000);
    await loadDatasets(dataset.id);
  } catch (error) {
    const [first] = error.fieldErrors || [];
    toast(first ? `${first.path}: ${first.message}` : error.message, "error");
  }
}

// Starting --------------------------------------------------------------------------------

function experimentBody() {
  const version = $("experiment-version").value.trim();
  return {
    workflowId: workflow.id,
    datasetId: $("experiment-dataset").value,
    version: /^\d+$/.test(version) ? Number(version) : version,
    repeats: Number($("experiment-repeats").value) || 1,
    evaluators: JSON.parse($("experiment-evaluators").value || "[]"),
  };
}

async function plan() {
  try {
    const answer = await api.planExperiment(experimentBody());
    $("experiment-plan-text").textContent =
      `${answer.runs} runs, ${answer.llmCalls} model calls (${answer.reusedNodes} results reused), ` +
      `${answer.judgeCalls} judge calls.`;
  } catch (error) {
    $("experiment-plan-text").textContent = error.message;
  }
}

async function start(event) {
  event.preventDefault();
  try {
    const experiment = await api.startExperiment(experimentBody());
    toast(`Evaluating version ${experiment.version}.`, "success", 3000);
    await loadExperiments();
    await showExperiment(experiment.id);
  } catch (error) {
    toast(error.message, "error");
  }
}

// The list and the chart -------------------------------------------------------------------

function chartRows(metric) {
  return [...state.experiments].reverse().map((experiment) => {
    const summary = experiment.summary || {};
    const value = { passRate: summary.passRate ?? 0, cost: Number(summary.totalCost ?? 0), p50: summary.durationP50Ms ?? 0 }[metric];
    // chart.js draws `cost` as dollars and anything else through `calls`.
    return {
      label: `v${experiment.version} · ${formatDate(experiment.createdAt)}`,
      cost: value,
      calls: metric === "passRate" ? Math.round(value * 100) : value,
    };
  });
}

function drawChart() {
  const metric = $("chart-metric").value;
  $("experiments-chart").replaceChildren(barChart(chartRows(metric), metric === "cost" ? "cost" : "calls"));
}

function experimentRow(experiment) {
  const summary = experiment.summary || {};
  const choose = el("input", {
    type: "checkbox",
    "aria-label": `Compare version ${experiment.version} of ${formatDate(experiment.createdAt)}`,
    checked: state.chosen.includes(experiment.id),
    onchange: (event) => {
      state.chosen = state.chosen.filter((id) => id !== experiment.id);
      if (event.target.checked) state.chosen = [...state.chosen, experiment.id].slice(-2);
      $("compare-button").disabled = state.chosen.length !== 2;
      renderExperiments();
    },
  });
  return el("tr", { dataset: { experiment: experiment.id } },
    el("td", {}, choose),
    el("td", { text: `v${experiment.version}` }),
    el("td", { text: experiment.datasetName }),
    el("td", {}, statusBadge(experiment.status), el("span", { class: "experiment-progress", text: ` ${experiment.done}/${experiment.total}` })),
    el("td", { text: percent(summary.passRate) }),
    el("td", { text: percent(summary.passHatK) }),
    el("td", { text: summary.totalCost ? `$${Number(summary.totalCost).toFixed(6)}` : "–" }),
    el("td", { text: `${summary.durationP50Ms ?? "–"} / ${summary.durationP95Ms ?? "–"}` }),
    el("td", {}, el("button", { class: "button", type: "button", text: "Results", onclick: () => showExperiment(experiment.id) })),
  );
}

function renderExperiments() {
  $("experiment-rows").replaceChildren(
    ...(state.experiments.length
      ? state.experiments.map(experimentRow)
      : [el("tr", {}, el("td", { colspan: 9, class: "empty", text: "No experiments yet." }))]),
  );
  drawChart();
}

async function loadExperiments() {
  state.experiments = (await api.listExperiments(workflow.id)).results;
  renderExperiments();
}

// One experiment's rows ----------------------------------------------------------------------

function scoreCell(scores) {
  return el("td", {}, ...scores.map((score) => el("div", { title: score.reason, text: `${score.name}: ${score.score}` })));
}

async function renderResults() {
  const id = state.shown;
  const [experiment, items] = await Promise.all([
    api.getExperiment(id),
    api.experimentItems(id, { failed: $("results-failed").checked ? "true" : "" }),
  ]);
  const { progress, aggregates } = experiment;
  $("results").hidden = false;
  $("results-summary").textContent =
    `Version ${experiment.version}, ${experiment.status}: ${progress.scored + progress.skipped}/${progress.total} rows done; ` +
    `pass rate ${percent(aggregates.passRate)}, pass^k ${percent(aggregates.passHatK)}.`;
  $("result-rows").replaceChildren(
    ...items.results.map((item) =>
      el("tr", { class: item.passed === false ? "is-failed" : "" },
        el("td", { text: String(item.rowIndex) }),
        el("td", { text: String(item.repeat + 1) }),
        el("td", { text: brief(item.inputs) }),
        el("td", { text: brief(item.outputs) }),
        scoreCell(item.scores),
        el("td", { text: item.passed === null ? item.status : item.passed ? "yes" : "no" }),
        el("td", { text: item.cost ?? "–" }),
        el("td", { text: item.durationMs ?? "–" }),
        el("td", {}, item.runId ? el("a", { href: `/runs/${item.runId}/`, text: "run" }) : ""),
      ),
    ),
  );
  return experiment;
}

async function showExperiment(id) {
  state.shown = id;
  clearTimeout(state.polling);
  const experiment = await renderResults();
  if (experiment.status === "running" || experiment.progress.running) {
    state.polling = setTimeout(() => showExperiment(id).then(loadExperiments).catch(showError), POLL_MS);
  } else {
    await loadExperiments();
    document.body.dataset.ready = "true";
  }
}

// Comparing ----------------------------------------------------------------------------------

function renderComparison() {
  const comparison = state.comparison;
  const rows = $("compare-regressed").checked ? comparison.rows.filter((row) => row.regressed) : comparison.rows;
  const deltas = comparison.deltas;
  $("compare").hidden = false;
  $("compare-summary").textContent =
    `v${comparison.a.version} → v${comparison.b.version}: pass rate ${deltas.passRate >= 0 ? "+" : ""}` +
    `${percent(deltas.passRate)}, ` +
    comparison.evaluators.map((name) => `${name}: ${comparison.changes[name].improved} improved, ` +
      `${comparison.changes[name].regressed} regressed`).join("; ");
  $("compare-rows").replaceChildren(
    ...rows.map((row) =>
      el("tr", { class: row.regressed ? "is-regressed" : "", dataset: { row: row.rowIndex } },
        el("td", { text: String(row.rowIndex) }),
        el("td", { text: brief(row.inputs) }),
        el("td", { text: Object.entries(row.changes).map(([name, change]) => `${name}: ${change}`).join(", ") }),
        el("td", { text: row.costDelta === null ? "–" : row.costDelta.toFixed(6) }),
        el("td", { text: row.durationDeltaMs === null ? "–" : String(row.durationDeltaMs) }),
      ),
    ),
  );
  const diff = comparison.versionDiff;
  $("compare-diff").replaceChildren(
    ...(diff
      ? diffLines(diff, { brief }).map((line) => el("li", { text: line }))
      : [el("li", { class: "muted", text: "Not two saved versions of this workflow." })]),
  );
}

async function compare() {
  // Oldest first: the baseline is the earlier experiment.
  const [b, a] = state.experiments.filter((e) => state.chosen.includes(e.id)).map((e) => e.id);
  try {
    state.comparison = await api.compareExperiments(a, b);
    renderComparison();
  } catch (error) {
    toast(error.message, "error");
  }
}

// Start-up -------------------------------------------------------------------------------------

const asked = new URLSearchParams(window.location.search).get("version");
$("experiment-version").value = asked || String(workflow.version);
$("experiment-evaluators").value = JSON.stringify([{ name: "exact", type: "exact", output: "answer" }]);
$("dataset-form").addEventListener("submit", uploadDataset);
$("experiment-form").addEventListener("submit", start);
$("experiment-plan").addEventListener("click", plan);
$("experiment-dataset").addEventListener("change", (event) => showRows(event.target.value).catch(showError));
$("chart-metric").addEventListener("change", drawChart);
$("results-failed").addEventListener("change", () => renderResults().catch(showError));
$("compare-button").addEventListener("click", compare);
$("compare-regressed").addEventListener("change", renderComparison);
Promise.all([loadDatasets(), loadExperiments()])
  .then(() => {
    document.body.dataset.ready = "true";
  })
  .catch(showError);
