// A run's live events (GET /api/runs/{id}/events, server-sent) for any page that shows a run: the run page and
// the editor follow runs with `followRun`. Nothing starts on import; callers pass what they work on.

import { pollRun } from "./poll.js";
import { isActive } from "./runstate.js";
import { liveSteps } from "./steps.js";

export const RUN_EVENT_TYPES = ["run", "node", "log", "token", "reset", "tool_call", "tool_result", "approval_requested", "approval_decided", "end"];
// Events of a running node's progress: they change what it shows, not the run's detail.
const PROGRESS_EVENTS = new Set(["token", "reset", "tool_call", "tool_result"]);

// Follow one run's stream. `onEvent(type, data, id)` hears every event in order (EventSource reconnects by
// itself after a dropped connection and resumes after the last id it saw). `onUnavailable()` is called once
// when the stream cannot be used (no EventSource, refused before it opened, or closed for good): poll then.
// The stream closes itself after `end`. Returns {close()}.
export function openRunStream(url, { onEvent, onUnavailable = () => {}, EventSourceImpl = globalThis.EventSource } = {}) {
  let closed = false;
  if (typeof EventSourceImpl !== "function") {
    onUnavailable();
    return { close() {} };
  }
  const source = new EventSourceImpl(url, { withCredentials: true });
  let opened = false;
  const close = () => {
    closed = true;
    source.close();
  };
  source.addEventListener("open", () => {
    opened = true;
  });
  for (const type of RUN_EVENT_TYPES) {
    source.addEventListener(type, (event) => {
      if (closed) return;
      let data;
      try {
        data = JSON.parse(event.data);
      } catch {
        return;
      }
      onEvent(type, data, event.lastEventId);
      if (type === "end") close();
    });
  }
  source.addEventListener("error", () => {
    if (closed) return;
    // readyState 2 (CLOSED): the browser gave up (an HTTP error, a wrong content type); before the first
    // open it was never usable. Otherwise it is reconnecting on its own.
    if (!opened || source.readyState === 2) {
      close();
      onUnavailable();
    }
  });
  return { close };
}

// The text each node shows while it runs, from a run's events: tokens append, `reset` and a (re)start clear
// it, a finished node or the run's end drop it (its result shows instead). Pure: returns a new Map.
export function liveTexts(texts, type, data) {
  const next = new Map(texts);
  if (type === "token") next.set(data.nodeId, (next.get(data.nodeId) || "") + data.text);
  else if (type === "reset") next.set(data.nodeId, "");
  else if (type === "node" && data.state === "started") next.set(data.nodeId, "");
  else if (type === "node" && data.state === "finished") next.delete(data.nodeId);
  else if (type === "end") next.clear();
  else return texts;
  return next;
}

// Follow an active run until it ends, for any page that shows one. `onRun(run)` gets the run detail after
// every event that changes more than a node's text (fetches coalesced to one in flight), and at once what the
// events say: each `run` event's status and counts, each finished node's result (the detail is written in
// batches, so it may not hold them yet). `onLive(texts)` gets the text each running node has generated so
// far, `onSteps(steps)` the tool calls each running node has made (steps.js). Without a stream (no
// EventSource, refused), it polls the detail instead. Returns {stop()}.
export function followRun(run, { getRun, eventsUrl, onRun, onLive = () => {}, onSteps = () => {}, onError = () => {}, EventSourceImpl } = {}) {
  let stopped = false;
  let poller = null;
  let fetching = false;
  let fetchAgain = false;
  let texts = new Map();
  let steps = new Map();
  let latest = run;
  const heard = new Map(); // nodeId -> its result from a `node` event
  const show = (detail) => {
    latest = withResults(detail, heard);
    onRun(latest);
  };
  async function fetchRun() {
    if (fetching) {
      fetchAgain = true;
      return;
    }
    fetching = true;
    try {
      const detail = await getRun(run.id);
      if (!stopped) show(detail);
    } catch (error) {
      if (!stopped) onError(error);
    }
    fetching = false;
    if (fetchAgain && !stopped) {
      fetchAgain = false;
      fetchRun();
    }
  }
  const stream = openRunStream(eventsUrl, {
    onEvent(type, data) {
      if (stopped) return;
      const next = liveTexts(texts, type, data);
      if (next !== texts) {
        texts = next;
        onLive(texts);
      }
      const nextSteps = liveSteps(steps, type, data);
      if (nextSteps !== steps) {
        steps = nextSteps;
        onSteps(steps);
      }
      // An ended run waits for its whole detail: its results may be newer than the last fetch.
      if (type === "run" && isActive(data)) show({ ...latest, ...data });
      if (type === "node" && data.result) {
        heard.set(data.nodeId, data.result);
        show(latest);
      }
      if (!PROGRESS_EVENTS.has(type)) fetchRun();
    },
    onUnavailable() {
      if (!stopped) poller = pollRun(getRun, run.id, show, { onError });
    },
    EventSourceImpl,
  });
  return {
    stop() {
      stopped = true;
      stream.close();
      if (poller) poller.stop();
    },
  };
}

// An active run's detail with the results heard from its events that the detail does not hold yet; a
// finished run's detail is the whole record.
export function withResults(run, heard) {
  if (!isActive(run) || heard.size === 0) return run;
  const have = new Set((run.nodeResults || []).map((result) => result.nodeId));
  const missing = [...heard.values()].filter((result) => !have.has(result.nodeId));
  return missing.length ? { ...run, nodeResults: [...(run.nodeResults || []), ...missing] } : run;
}
