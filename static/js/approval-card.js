// One approval waiting for a decision, as the run page and the inbox show it: what it asks (instructions and
// subject), a comment field and Approve / Reject, which post the decision through `decide`. Builds DOM only.

import { outputPreview } from "./runstate.js";
import { el, formatDate } from "./ui.js";

const TIMEOUT_OUTCOME = { approve: "approved", reject: "rejected", fail: "the step fails" };

const DECISIONS = [
  ["approve", "Approve", "button button--primary"],
  ["reject", "Reject", "button button--danger"],
];

// `approval` as the API lists it (its run's id in `runId`); `context` is shown above it (the inbox names the
// run and workflow). `decide(runId, nodeId, {decision, comment})` posts it; `onDecided(approval)` hears the
// answer, `onError(error)` a refusal (the buttons work again then).
export function approvalCard(approval, { decide, onDecided, onError, context = null }) {
  const comment = el("textarea", {
    class: "input approval__comment",
    rows: 2,
    maxlength: 10000,
    placeholder: "Comment (optional)",
    "aria-label": `Comment on ${approval.nodeId}`,
  });
  const buttons = DECISIONS.map(([decision, label, classes]) =>
    el("button", { type: "button", class: classes, dataset: { decision }, text: label }));
  for (const button of buttons) {
    button.addEventListener("click", async () => {
      buttons.forEach((each) => { each.disabled = true; });
      try {
        onDecided(await decide(approval.runId, approval.nodeId, { decision: button.dataset.decision, comment: comment.value }));
      } catch (error) {
        buttons.forEach((each) => { each.disabled = false; });
        onError(error);
      }
    });
  }
  const subject = approval.subject == null ? null : el("pre", { class: "output approval__subject", text: outputPreview({ value: approval.subject }, 4000) });
  return el("article", { class: "approval", dataset: { run: approval.runId, node: approval.nodeId } },
    context,
    el("p", { class: "approval__instructions", text: approval.instructions || "Approve or reject this step." }),
    subject,
    comment,
    el("div", { class: "approval__actions" }, buttons),
    el("p", { class: "muted", text: `Asked ${formatDate(approval.requestedAt)}; ${TIMEOUT_OUTCOME[approval.onTimeout] || approval.onTimeout} if no one decides by ${formatDate(approval.deadline)}.` }),
  );
}
