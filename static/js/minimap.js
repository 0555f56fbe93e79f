// The minimap: every node as a small box, the visible area as a frame; click or drag to move the view.

import { bounds, toWorld } from "./viewport.js";

const STATUS_COLOURS = {
  succeeded: "#3fb950",
  failed: "#f85149",
  running: "#d29922",
  queued: "#8b949e",
  skipped: "#6e7681",
  cancelled: "#6e7681",
};

export class Minimap {
  constructor(canvasElement, editorCanvas) {
    this.element = canvasElement;
    this.canvas = editorCanvas;
    this.statuses = {};
    this.pending = null; // the animation frame that will draw it
    this.element.addEventListener("pointerdown", (event) => this.pointerDown(event));
  }

  // The mapping from world to minimap pixels, from the nodes and the visible area together.
  frame() {
    const size = this.canvas.size();
    const visibleA = toWorld(this.canvas.view, { x: 0, y: 0 });
    const visibleB = toWorld(this.canvas.view, { x: size.width, y: size.height });
    const visible = { x: visibleA.x, y: visibleA.y, width: visibleB.x - visibleA.x, height: visibleB.y - visibleA.y };
    const box = bounds([...this.canvas.nodeRects(), visible]);
    const scale = Math.min(this.element.width / box.width, this.element.height / box.height);
    const offset = {
      x: (this.element.width - box.width * scale) / 2 - box.x * scale,
      y: (this.element.height - box.height * scale) / 2 - box.y * scale,
    };
    return { scale, offset, visible };
  }

  // Drawn at the next frame, once however many changes ask for it: measuring the canvas between a change's
  // writes forced a layout of the page on every keystroke and pointer move.
  draw(statuses = this.statuses) {
    this.statuses = statuses;
    if (this.pending === null) this.pending = requestAnimationFrame(() => this.drawNow());
  }

  drawNow() {
    this.pending = null;
    const statuses = this.statuses;
    const context = this.element.getContext("2d");
    const { width, height } = this.element;
    context.clearRect(0, 0, width, height);
    const { scale, offset, visible } = this.frame();
    for (const rect of this.canvas.nodeRects()) {
      context.fillStyle = STATUS_COLOURS[statuses[rect.id]] || "#58a6ff";
      context.fillRect(offset.x + rect.x * scale, offset.y + rect.y * scale, rect.width * scale, rect.height * scale);
    }
    context.strokeStyle = "#e6edf3";
    context.lineWidth = 1;
    context.strokeRect(
      offset.x + visible.x * scale,
      offset.y + visible.y * scale,
      visible.width * scale,
      visible.height * scale,
    );
  }

  pointerDown(event) {
    event.preventDefault();
    event.stopPropagation();
    const { scale, offset } = this.frame();
    const rect = this.element.getBoundingClientRect();
    const moveTo = (e) => {
      const x = (e.clientX - rect.left - offset.x) / scale;
      const y = (e.clientY - rect.top - offset.y) / scale;
      this.canvas.centreOn({ x, y });
    };
    moveTo(event);
    const up = () => {
      window.removeEventListener("pointermove", moveTo);
      window.removeEventListener("pointerup", up);
    };
    window.addEventListener("pointermove", moveTo);
    window.addEventListener("pointerup", up);
  }
}
