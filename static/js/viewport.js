// Pan and zoom arithmetic for the canvas. A view is {x, y, zoom}: screen = world * zoom + (x, y). Pure.

// Low enough for Fit to show a 500-node graph whole; below it nothing on a node can be made out.
export const MIN_ZOOM = 0.08;
export const MAX_ZOOM = 2.5;

export function clampZoom(zoom) {
  return Math.min(MAX_ZOOM, Math.max(MIN_ZOOM, zoom));
}

export function toWorld(view, point) {
  return { x: (point.x - view.x) / view.zoom, y: (point.y - view.y) / view.zoom };
}

export function toScreen(view, point) {
  return { x: point.x * view.zoom + view.x, y: point.y * view.zoom + view.y };
}

// Zooms by `factor` keeping the world point under `anchor` (screen coordinates) still.
export function zoomAt(view, factor, anchor) {
  const zoom = clampZoom(view.zoom * factor);
  const world = toWorld(view, anchor);
  return { zoom, x: anchor.x - world.x * zoom, y: anchor.y - world.y * zoom };
}

// Bounding box of node rectangles [{x, y, width, height}], or null for none.
export function bounds(rects) {
  if (!rects.length) return null;
  const left = Math.min(...rects.map((r) => r.x));
  const top = Math.min(...rects.map((r) => r.y));
  const right = Math.max(...rects.map((r) => r.x + r.width));
  const bottom = Math.max(...rects.map((r) => r.y + r.height));
  return { x: left, y: top, width: right - left, height: bottom - top };
}

// The smallest zoom at which node titles stay readable (15 px titles at 0.8 are 12 px on screen).
export const READABLE_ZOOM = 0.8;

// The view that shows `box` (world) inside a screen area of `size` ({width, height} and, for an area that
// does not start at the canvas's corner, its {x, y}), with padding, at most at zoom 1. With `minZoom`, a box
// too big for the area is shown from its left edge at that zoom instead of shrunk; one too big even at
// MIN_ZOOM is centred.
export function fitView(box, size, padding = 40, minZoom = MIN_ZOOM) {
  if (!box) return { x: 0, y: 0, zoom: 1 };
  const left = size.x || 0;
  const top = size.y || 0;
  const fitting = clampZoom(
    Math.min(
      (size.width - 2 * padding) / Math.max(box.width, 1),
      (size.height - 2 * padding) / Math.max(box.height, 1),
      1,
    ),
  );
  const zoom = Math.max(fitting, Math.min(minZoom, 1));
  const fromEdge = minZoom > MIN_ZOOM;
  const wide = fromEdge && box.width * zoom > size.width - 2 * padding;
  const tall = fromEdge && box.height * zoom > size.height - 2 * padding;
  return {
    zoom,
    x: left + (wide ? padding - box.x * zoom : (size.width - box.width * zoom) / 2 - box.x * zoom),
    y: top + (tall ? padding - box.y * zoom : (size.height - box.height * zoom) / 2 - box.y * zoom),
  };
}

// An S-shaped cubic Bézier from an output port to an input port (SVG path data).
export function edgePath(from, to) {
  const bend = Math.max(40, Math.abs(to.x - from.x) / 2);
  return `M ${from.x} ${from.y} C ${from.x + bend} ${from.y}, ${to.x - bend} ${to.y}, ${to.x} ${to.y}`;
}
