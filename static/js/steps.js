// A tool-using node's transcript (an Agent's `transcript` output) as steps: each model turn (model, tokens,
// cost, its text), each tool call (tool, arguments, result or error, duration, a link to its child run) and
// each call that waited for a person (tool, arguments, their decision). Recognised by its shape, so no kind
// is named here. `liveSteps` builds the same steps from a running node's `tool_call` / `tool_result` /
// `approval_requested` events while the transcript grows.

import { el } from "./ui.js";

const PREVIEW_CHARS = 600;
const STEP_TYPES = new Set(["model", "tool", "approval"]);
const DECIDED = { approve: "approved", reject: "rejected", timeout: "no one decided in time" };

export function isTranscript(value) {
  return Array.isArray(value) && value.length > 0
    && value.every((step) => step && typeof step === "object" && STEP_TYPES.has(step.type));
}

// The steps each running node has taken so far, from a run's events: a call appends a pending tool step,
// its result completes it; a call that waits for a person appends a waiting approval step, which its
// decision completes. A finished node or the run's end drops them (its transcript shows instead), except
// the steps of a node that waits when the run does. Pure: returns a new Map, or `steps` itself when the
// event changes nothing.
export function liveSteps(steps, type, data) {
  if (type === "approval_requested" && data.callId) {
    const next = new Map(steps);
    const step = {
      type: "approval", id: data.callId, approvalId: data.approvalId, tool: data.tool, arguments: data.arguments,
      decision: null, pending: true,
    };
    next.set(data.nodeId, [...(next.get(data.nodeId) || []).filter((known) => known.approvalId !== data.approvalId), step]);
    return next;
  }
  if (type === "approval_decided") {
    const next = new Map();
    let changed = false;
    for (const [nodeId, nodeSteps] of steps) {
      next.set(nodeId, nodeSteps.map((step) => {
        if (step.type !== "approval" || step.approvalId !== data.nodeId) return step;
        changed = true;
        return { ...step, decision: data.decision, who: data.who, comment: data.comment, pending: false };
      }));
    }
    return changed ? next : steps;
  }
  if (type === "end" && data.status === "waiting") {
    const next = new Map([...steps].filter(([, nodeSteps]) => nodeSteps.some((step) => step.type === "approval" && step.pending)));
    return next.size === steps.size ? steps : next;
  }
  if (type === "tool_call") {
    const next = new Map(steps);
    const step = { type: "tool", id: data.callId, tool: data.tool, arguments: data.arguments, pending: true };
    next.set(data.nodeId, [...(next.get(data.nodeId) || []), step]);
    return next;
  }
  if (type === "tool_result") {
    const next = new Map(steps);
    const done = {
      type: "tool", id: data.callId, tool: data.tool, durationMs: data.durationMs, childRunId: data.childRunId,
      [data.isError ? "error" : "result"]: data.result,
    };
    const known = next.get(data.nodeId) || [];
    const at = known.findIndex((step) => step.type === "tool" && step.id === data.callId);
    next.set(data.nodeId, at < 0 ? [...known, done] : known.map((step, i) => (i === at ? { ...step, ...done, pending: false } : step)));
    return next;
  }
  if ((type === "node" && data.state === "finished" && steps.has(data.nodeId)) || (type === "end" && steps.size)) {
    const next = new Map(steps);
    if (type === "end") next.clear();
    else next.delete(data.nodeId);
    return next;
  }
  return steps;
}

export function stepsView(steps) {
  return el("ol", { class: "steps" }, steps.map((step, index) => el("li", {
    class: `step step--${step.type}${step.error !== undefined ? " step--error" : ""}${step.pending ? " step--pending" : ""}`,
    dataset: { step: String(index + 1) },
  }, ...(step.type === "model" ? modelStep(step) : step.type === "approval" ? approvalStep(step) : toolStep(step)))));
}

function approvalStep(step) {
  const by = step.who ? ` by ${step.who}` : "";
  const status = step.decision ? `${DECIDED[step.decision] || step.decision}${step.decision === "timeout" ? "" : by}` : "waiting for approval";
  return [
    el("div", { class: "step__head" },
      el("strong", { text: `Approval: tool ${step.tool}` }), " ",
      el("span", { class: "muted step__decision", text: status })),
    el("pre", { class: "output output--wrap step__arguments", text: preview(step.arguments) }),
    step.comment ? el("p", { class: "step__comment", text: step.comment }) : null,
  ];
}

function modelStep(step) {
  const cost = typeof step.cost === "number" ? ` · $${step.cost.toFixed(6)}` : "";
  return [
    el("div", { class: "step__head" },
      el("strong", { text: "Model" }), " ",
      el("span", { class: "muted", text: `${[step.provider, step.model].filter(Boolean).join(" / ")} · ${step.inputTokens ?? 0} in / ${step.outputTokens ?? 0} out${cost}` })),
    step.text ? el("pre", { class: "output output--wrap", text: preview(step.text) }) : null,
  ];
}

function toolStep(step) {
  const failed = step.error !== undefined;
  const status = step.pending ? "running…" : failed ? "error" : "ok";
  return [
    el("div", { class: "step__head" },
      el("strong", { text: `Tool ${step.tool}` }), " ",
      el("span", { class: "muted", text: `${status}${step.durationMs != null ? ` · ${step.durationMs} ms` : ""}` }),
      step.childRunId ? el("a", { class: "step__child", href: `/runs/${step.childRunId}/`, text: ` child run ${step.childRunId.slice(0, 8)}` }) : null),
    el("pre", { class: "output output--wrap step__arguments", text: preview(step.arguments) }),
    step.pending ? null : el("pre", { class: `output output--wrap ${failed ? "output--error" : ""}`, text: preview(failed ? step.error : step.result) }),
  ];
}

function preview(value) {
  const text = typeof value === "string" ? value : JSON.stringify(value);
  return text.length > PREVIEW_CHARS ? `${text.slice(0, PREVIEW_CHARS - 1)}…` : text;
}
