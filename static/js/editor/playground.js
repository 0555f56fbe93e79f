// The Playground: try a workflow with a text Input and an Output as a chat. Each message starts a full run
// through the editor's run call (unsaved edits run as they are on the canvas), shows the answer as the node
// feeding the Output streams it, passes the earlier turns to an optional `history` input, and links its run.

import { ApiError, api } from "../api.js";
import { graphInterface } from "../graph.js";
import { followRun } from "../run-stream.js";
import { isActive } from "../runstate.js";
import { el, once, statusBadge } from "../ui.js";
import { executeBody } from "./runs.js";
import { commitTyping } from "./typing.js";

export const HISTORY_INPUT = "history";

function outputNodeOf(graph, kinds, name) {
  return graph.nodes.find((node) => {
    const kind = kinds.get(node.type);
    return kind && kind.interfaceRole === "output" && (node.data || {}).name === name;
  });
}

// What the Playground talks to in `graph`: {message, history, output, answerNodeId} (input and output names,
// and the node whose streamed text is the answer), or {problem} saying what the workflow lacks.
export function chatShape(graph, kinds) {
  const { inputs, outputs } = graphInterface(graph, kinds);
  const history = inputs.find((input) => input.name === HISTORY_INPUT && input.type === "text");
  const texts = inputs.filter((input) => input.type === "text" && input.name !== HISTORY_INPUT);
  if (!texts.length) return { problem: "The Playground needs a text Input node to receive each message." };
  if (!outputs.length) return { problem: "The Playground needs an Output node for the answer." };
  const message = texts.find((input) => input.required) || texts[0];
  const unfilled = inputs.filter((input) => input.required && input !== message && input !== history);
  if (unfilled.length) {
    const names = unfilled.map((input) => `“${input.name}”`).join(", ");
    return { problem: `The Playground fills only the message and “${HISTORY_INPUT}”; give ${names} a default.` };
  }
  const output = outputs[0].name;
  const outputNode = outputNodeOf(graph, kinds, output);
  const feed = outputNode && graph.edges.find((edge) => edge.target === outputNode.id);
  return { message: message.name, history: history ? history.name : null, output, answerNodeId: feed ? feed.source : null };
}

// The earlier answered turns as the `history` input receives them, oldest first.
export function historyText(turns) {
  return turns
    .filter((turn) => turn.status === "succeeded")
    .map((turn) => `User: ${turn.message}\nAssistant: ${turn.answer}`)
    .join("\n\n");
}

// An Output's value as the chat shows it: text as it is, anything else as indented JSON.
export function answerText(value) {
  if (value === null || value === undefined) return "";
  return typeof value === "string" ? value : JSON.stringify(value, null, 2);
}

function turnView(turn) {
  const answer = turn.status === "succeeded" ? turn.answer : turn.live;
  return el("li", { class: "playground__turn", dataset: { status: turn.status } },
    el("p", { class: "playground__message playground__message--user", text: turn.message }),
    el("div", { class: "playground__message playground__message--answer" },
      el("div", { class: "playground__meta" },
        statusBadge(turn.status),
        turn.runId ? el("a", { href: `/runs/${turn.runId}/`, target: "_blank", class: "playground__run", text: "Run ↗" }) : null),
      answer ? el("pre", { class: "playground__answer", text: answer }) : null,
      turn.error ? el("p", { class: "error", text: turn.error }) : null),
  );
}

function render(editor, chat) {
  const shape = chatShape(editor.state.graph, editor.state.kinds);
  const { panel } = chat;
  const about = panel.querySelector(".playground__about");
  if (shape.problem) {
    about.textContent = shape.problem;
  } else {
    const history = shape.history ? `, “${shape.history}” the earlier turns` : "";
    about.textContent = `Each message runs the workflow: Input “${shape.message}” gets it${history}; the answer is Output “${shape.output}”.`;
  }
  about.classList.toggle("error", Boolean(shape.problem));
  const busy = chat.turns.some((turn) => isActive({ status: turn.status }));
  panel.querySelector(".playground__send").disabled = busy || Boolean(shape.problem);
  const log = panel.querySelector(".playground__log");
  log.replaceChildren(...chat.turns.map(turnView));
  log.scrollTop = log.scrollHeight;
}

function finish(turn, run, shape) {
  turn.status = run.status;
  if (run.status === "succeeded") turn.answer = answerText((run.outputs || {})[shape.output]);
  else turn.error = run.errorSummary || `The run ${run.status}.`;
}

async function send(editor, chat, text) {
  const shape = chatShape(editor.state.graph, editor.state.kinds);
  if (shape.problem) return;
  commitTyping(editor);
  const inputs = { [shape.message]: text };
  if (shape.history) inputs[shape.history] = historyText(chat.turns);
  const turn = { message: text, answer: "", live: "", status: "queued", runId: null, error: "" };
  chat.turns.push(turn);
  render(editor, chat);
  try {
    const { runId } = await api.execute({ ...executeBody(editor, "full", []), inputs });
    turn.runId = runId;
  } catch (error) {
    if (!(error instanceof ApiError)) throw error;
    turn.status = "failed";
    const details = error.fieldErrors.slice(0, 2).map((issue) => `${issue.path}: ${issue.message}`).join("; ");
    turn.error = `Could not start the run: ${error.message}${details ? ` (${details})` : ""}`;
    render(editor, chat);
    return;
  }
  render(editor, chat);
  chat.follower = followRun({ id: turn.runId, status: "queued" }, {
    getRun: api.getRun,
    eventsUrl: api.runEventsUrl(turn.runId),
    onRun(run) {
      if (isActive(run)) turn.status = run.status;
      else {
        finish(turn, run, shape);
        if (chat.follower) chat.follower.stop();
        chat.follower = null;
      }
      render(editor, chat);
    },
    onLive(texts) {
      turn.live = texts.get(shape.answerNodeId) || turn.live;
      render(editor, chat);
    },
    onError: once((error) => {
      turn.error = `Lost touch with the run: ${error.message}. Still trying…`;
      render(editor, chat);
    }),
  });
}

function buildPanel(editor, chat) {
  const field = el("textarea", { class: "input playground__input", rows: 2, "aria-label": "Message", placeholder: "Type a message; Enter sends, Shift+Enter starts a new line" });
  const form = el("form", { class: "playground__form" },
    field,
    el("button", { type: "submit", class: "button button--primary playground__send", text: "Send" }));
  const submit = () => {
    const text = field.value.trim();
    if (!text || form.querySelector(".playground__send").disabled) return;
    field.value = "";
    send(editor, chat, text);
  };
  form.addEventListener("submit", (event) => {
    event.preventDefault();
    submit();
  });
  field.addEventListener("keydown", (event) => {
    if (event.key === "Enter" && !event.shiftKey && !event.isComposing) {
      event.preventDefault();
      submit();
    }
  });
  const panel = el("aside", { id: "playground", class: "playground", "aria-labelledby": "playground-title", hidden: true },
    el("div", { class: "playground__head" },
      el("h2", { id: "playground-title", text: "Playground" }),
      el("button", { type: "button", class: "button button--small", text: "Clear", title: "Start a new conversation", onclick: () => {
        if (chat.follower) chat.follower.stop();
        chat.follower = null;
        chat.turns = [];
        render(editor, chat);
      } }),
      el("button", { type: "button", class: "button button--small", text: "Close", onclick: () => { panel.hidden = true; } })),
    el("p", { class: "playground__about muted" }),
    el("ol", { class: "playground__log", role: "log", "aria-label": "Conversation" }),
    form);
  panel.addEventListener("keydown", (event) => {
    if (event.key === "Escape") panel.hidden = true;
  });
  document.body.append(panel);
  return panel;
}

// Opens (or shows again) the editor's Playground; the conversation lasts as long as the page.
export function openPlayground(editor) {
  if (!editor.playground) editor.playground = { turns: [], follower: null, panel: null };
  const chat = editor.playground;
  if (!chat.panel) chat.panel = buildPanel(editor, chat);
  chat.panel.hidden = false;
  render(editor, chat);
  chat.panel.querySelector(".playground__input").focus();
}
