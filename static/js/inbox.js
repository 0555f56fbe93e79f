// The approvals inbox: every approval waiting for the user (GET /api/approvals, every page), each with
// Approve / Reject; a decided one leaves the list and its run goes on.

import { api } from "./api.js";
import { approvalCard } from "./approval-card.js";
import { el, toast } from "./ui.js";

const inbox = document.getElementById("inbox");

async function waitingApprovals() {
  const approvals = [];
  let page = await api.listApprovals({ limit: 100 });
  approvals.push(...page.results);
  while (page.next) {
    page = await api.getApprovalPage(page.next);
    approvals.push(...page.results);
  }
  return approvals;
}

function showEmptyIfDone() {
  if (!inbox.children.length) inbox.replaceChildren(el("p", { class: "empty", text: "Nothing is waiting for your decision." }));
}

function card(approval) {
  const run = el("a", { href: `/runs/${approval.runId}/`, text: `run ${approval.runId.slice(0, 8)}` });
  const workflow = approval.workflowId
    ? el("a", { href: `/workflows/${approval.workflowId}/`, text: approval.workflowName || "(workflow)" })
    : el("span", { class: "muted", text: "ad-hoc graph" });
  const context = el("h2", { class: "approval__title" }, workflow, " · ", run, " · ", el("code", { text: approval.nodeId }));
  const shown = approvalCard(approval, {
    decide: api.decideApproval,
    onDecided: (decided) => {
      shown.remove();
      showEmptyIfDone();
      toast(`${decided.decision === "approve" ? "Approved" : "Rejected"}: run ${decided.runId.slice(0, 8)} goes on.`, "success");
    },
    onError: (error) => toast(`Could not decide: ${error.message}`, "error"),
    context,
  });
  return shown;
}

async function load() {
  try {
    inbox.replaceChildren(...(await waitingApprovals()).map(card));
    showEmptyIfDone();
  } catch (error) {
    inbox.replaceChildren(el("p", { class: "error", text: `Could not load the approvals: ${error.message}` }));
  }
  document.body.dataset.ready = "true";
}

load();
