// Live run updates: GET /api/runs/{id} at most once a second while the run is active, then stop.

import { isActive } from "./runstate.js";

export function pollRun(fetchRun, runId, onUpdate, { interval = 1000, onError = () => {} } = {}) {
  let stopped = false;
  let timer = null;
  async function tick() {
    const started = Date.now();
    try {
      const run = await fetchRun(runId);
      if (stopped) return;
      onUpdate(run);
      if (!isActive(run)) {
        stopped = true;
        return;
      }
    } catch (error) {
      if (stopped) return;
      onError(error);
    }
    // The next request starts a full interval after the previous one started, never sooner.
    timer = setTimeout(tick, Math.max(0, interval - (Date.now() - started)));
  }
  tick();
  return {
    stop() {
      stopped = true;
      clearTimeout(timer);
    },
    get stopped() {
      return stopped;
    },
  };
}
