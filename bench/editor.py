"""Editor interaction costs in Chromium (Playwright) on 200- and 500-node graphs, from a Chrome trace of real
input: per pointer move while dragging a node and per keystroke in a node's settings (p50 / p95 / max of all
rounds), and the time to open the editor.

    .venv/bin/python -m bench.editor [--sizes 200 500] [--moves 120] [--keys 60] [--rounds 3]

Needs Debian's Chromium (/usr/bin/chromium) and no server or database: the editor page is rendered from its
real template, /static/ is served from the worktree, and the API calls the editor makes are answered by
Playwright routes (node_kind_catalog(), port_type_rules(), the workflow, an empty run list).

Input is real: `page.mouse` presses a node's header and moves it, `page.keyboard` types into its settings;
after each event the script waits for the next frame. A Chrome trace (devtools.timeline) is recorded
meanwhile, and an event's cost is the renderer main thread's busy time from the event's dispatch to the end
of the frame it causes (its Commit, else its Paint, else the next event): handlers, animation frames, style,
layout and paint, everything the page does for it, however the work grows with the graph (hit testing
included). Opening is navigation start to the editor's "editor-ready" performance mark, and the drawing part
of it ("editor-loaded", the API answers in hand, to "editor-ready").
"""

from __future__ import annotations

import argparse
import json
import mimetypes
import os
import statistics
import uuid
from collections.abc import Iterable
from pathlib import Path
from types import SimpleNamespace
from typing import Any

ROOT = Path(__file__).resolve().parents[1]
ORIGIN = "http://editor.bench"
CHROMIUM = "/usr/bin/chromium"
TRACE_CATEGORIES = [
    "devtools.timeline",
    "disabled-by-default-devtools.timeline",
    "toplevel",
    "blink.user_timing",
]
# A task on the main thread, whatever runs inside it: the unit busy time is summed from.
TOP_LEVEL_TASKS = {"RunTask", "ThreadControllerImpl::RunTask"}
FRAME_ENDS = ("Commit", "Paint")
NEXT_FRAME = "() => new Promise((resolve) => requestAnimationFrame(() => requestAnimationFrame(resolve)))"


def example_graph(size: int) -> dict[str, Any]:
    """`size` nodes in chains of Text -> Prompt -> LLM -> Debug, laid out on a grid."""
    nodes: list[dict[str, Any]] = []
    edges: list[dict[str, Any]] = []
    kinds = [("text", {"text": "owls"}), ("prompt", {"template": "About {{topic}}"}), ("llm", {})]
    kinds.append(("debug", {}))
    links = {1: ("text", "topic"), 2: ("text", "prompt"), 3: ("text", "value")}
    for index in range(size):
        chain, step = divmod(index, 4)
        kind, data = kinds[step]
        node_id = f"{kind}-{chain + 1}"
        position = {"x": step * 320, "y": chain * 200}
        nodes.append({"id": node_id, "type": kind, "position": position, "data": dict(data)})
        if step and index - 1 >= 0:
            source = nodes[index - 1]["id"]
            source_handle, target_handle = links[step]
            edges.append(
                {
                    "id": f"e-{source}-{node_id}",
                    "source": source,
                    "sourceHandle": source_handle,
                    "target": node_id,
                    "targetHandle": target_handle,
                }
            )
    return {"nodes": nodes, "edges": edges}


def editor_html(workflow_id: str, name: str) -> str:
    # Only the template engine is used: the test settings need no secret and touch no database.
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.test_settings")
    import django

    django.setup()
    from django.template.loader import render_to_string

    from uploads.images import ALLOWED_CONTENT_TYPES

    user = SimpleNamespace(is_authenticated=True, email="bench@example.com")
    workflow = SimpleNamespace(id=workflow_id, name=name)
    bootstrap = {"id": workflow_id, "name": name, "imageTypes": ALLOWED_CONTENT_TYPES}
    context = {"active": "workflows", "workflow": workflow, "bootstrap": bootstrap}
    return render_to_string("workflows/editor.html", {**context, "user": user})


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def _dispatches(event: dict[str, Any], types: Iterable[str]) -> bool:
    return event.get("name") == "EventDispatch" and event.get("args", {}).get("data", {}).get("type") in types


def outermost(intervals: Iterable[tuple[float, float]]) -> list[tuple[float, float]]:
    """The intervals with those nested in another left out, in order: a main-thread task is recorded twice,
    as RunTask and, inside it, ThreadControllerImpl::RunTask, and its time must count once."""
    kept: list[tuple[float, float]] = []
    for begin, end in sorted(intervals, key=lambda interval: (interval[0], -interval[1])):
        if kept and end <= kept[-1][1]:
            continue
        kept.append((begin, end))
    return kept


def event_costs(trace: dict[str, Any], event_type: str) -> list[float]:
    """Milliseconds of renderer main-thread work per input event of `event_type` in a Chrome trace: from the
    start of the task that dispatched it to the end of the frame it caused (Commit, else Paint, else the next
    such event), the busy time of the main thread's tasks in between."""
    events = trace["traceEvents"] if isinstance(trace, dict) else trace
    first = next((event for event in events if _dispatches(event, [event_type])), None)
    if first is None:
        return []
    thread = (first["pid"], first["tid"])
    on_main = [
        event for event in events if (event.get("pid"), event.get("tid")) == thread and event.get("ph") == "X"
    ]
    tasks = outermost(
        (event["ts"], event["ts"] + event.get("dur", 0))
        for event in on_main
        if event["name"] in TOP_LEVEL_TASKS
    )

    def task_start(ts: float) -> float:
        return next((start for start, end in tasks if start <= ts <= end), ts)

    starts = sorted({task_start(event["ts"]) for event in on_main if _dispatches(event, [event_type])})
    frame_ends = {
        name: sorted(event["ts"] + event.get("dur", 0) for event in on_main if event["name"] == name)
        for name in FRAME_ENDS
    }
    costs = []
    for index, start in enumerate(starts):
        limit = starts[index + 1] if index + 1 < len(starts) else float("inf")
        end = next(
            (ts for name in FRAME_ENDS for ts in frame_ends[name] if start < ts <= limit),
            None,
        )
        if end is None:
            if limit == float("inf"):
                continue  # the last event's frame fell outside the trace
            end = limit
        busy = sum(max(0.0, min(task_end, end) - max(task_begin, start)) for task_begin, task_end in tasks)
        costs.append(busy / 1000)
    return costs


def _traced(browser: Any, page: Any, action: Any) -> dict[str, Any]:
    browser.start_tracing(page=page, categories=TRACE_CATEGORIES)
    try:
        action()
    finally:
        trace = json.loads(browser.stop_tracing())
    return trace


def _drag(page: Any, node_id: str, moves: int) -> None:
    box = page.locator(f'.node[data-id="{node_id}"] .node__header').bounding_box()
    x, y = box["x"] + 12, box["y"] + box["height"] / 2
    page.mouse.move(x, y)
    page.mouse.down()
    for step in range(1, moves + 1):
        page.mouse.move(x + step * 2, y + step % 7)
        page.evaluate(NEXT_FRAME)
    page.mouse.up()


def _type(page: Any, field: str, keys: int) -> None:
    page.locator(f"#{field}").click()
    page.keyboard.press("End")
    for _ in range(keys):
        page.keyboard.press("x")
        page.evaluate(NEXT_FRAME)


def measure(browser: Any, size: int, moves: int, keys: int, rounds: int) -> dict[str, float]:
    from engine import node_kind_catalog, port_type_rules

    workflow_id = str(uuid.uuid4())
    graph = example_graph(size)
    workflow = {"id": workflow_id, "name": f"Bench {size}", "description": "", "version": 1, **graph}
    html = editor_html(workflow_id, workflow["name"])
    catalog = json.dumps(node_kind_catalog())
    port_types = json.dumps(port_type_rules())

    def serve(route: Any) -> None:
        path = route.request.url.removeprefix(ORIGIN).split("?", 1)[0]
        if path.startswith("/static/"):
            file = ROOT / path.lstrip("/")
            kind = mimetypes.guess_type(file.name)[0] or "application/octet-stream"
            if file.suffix == ".js":
                kind = "text/javascript"
            route.fulfill(status=200, body=file.read_bytes(), content_type=kind)
        elif path == "/api/node-kinds":
            route.fulfill(status=200, body=catalog, content_type="application/json")
        elif path == "/api/port-types":
            route.fulfill(status=200, body=port_types, content_type="application/json")
        elif path == f"/api/workflows/{workflow_id}":
            route.fulfill(status=200, body=json.dumps(workflow), content_type="application/json")
        elif path == "/api/runs":
            body = json.dumps({"count": 0, "next": None, "previous": None, "results": []})
            route.fulfill(status=200, body=body, content_type="application/json")
        elif path == f"/workflows/{workflow_id}/":
            route.fulfill(status=200, body=html, content_type="text/html")
        else:
            route.fulfill(status=404, body="")

    context = browser.new_context(viewport={"width": 1440, "height": 900})
    page = context.new_page()
    page.route(f"{ORIGIN}/**", serve)
    opens = []
    for _ in range(rounds):
        page.goto(f"{ORIGIN}/workflows/{workflow_id}/")
        page.wait_for_selector("body[data-ready=true]")
        opens.append(
            page.evaluate(
                """() => [performance.getEntriesByName('editor-ready')[0].startTime,
                          performance.measure('draw', 'editor-loaded', 'editor-ready').duration]"""
            )
        )
    # A node in the middle of the graph: clicked (selected), dragged, then its text typed into; every
    # round's events count (p50 / p95 / max of all of them).
    text_id = f"text-{size // 8 + 1}"
    field = f"field-{text_id}-text"
    moves_ms: list[float] = []
    keys_ms: list[float] = []
    for _ in range(rounds):
        page.locator(f'.node[data-id="{text_id}"] .node__header').click()
        page.wait_for_selector(f"#{field}")
        moves_ms += event_costs(_traced(browser, page, lambda: _drag(page, text_id, moves)), "pointermove")
        keys_ms += event_costs(_traced(browser, page, lambda: _type(page, field, keys)), "keydown")
        page.locator("#canvas").click(position={"x": 3, "y": 3})  # leave the field
    context.close()
    return {
        "open": statistics.median(total for total, _ in opens),
        "open_work": statistics.median(work for _, work in opens),
        "move_p50": percentile(moves_ms, 0.5),
        "move_p95": percentile(moves_ms, 0.95),
        "move_max": max(moves_ms),
        "key_p50": percentile(keys_ms, 0.5),
        "key_p95": percentile(keys_ms, 0.95),
        "key_max": max(keys_ms),
        "moves": len(moves_ms),
        "keys": len(keys_ms),
    }


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 500])
    parser.add_argument("--moves", type=int, default=120)
    parser.add_argument("--keys", type=int, default=60)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args()
    from playwright.sync_api import sync_playwright

    goals = {200: ("≤ 16", "≤ 16", "< 1000"), 500: ("< 33", "", "")}
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=["--no-sandbox"])
        rows = [(size, measure(browser, size, args.moves, args.keys, args.rounds)) for size in args.sizes]
        browser.close()
    print(
        "| nodes | open: total / drawing (ms) | move p50 / p95 / max (ms) | keystroke p50 / p95 / max (ms) "
        "| events measured | goals: move p95 / key p95 / open |"
    )
    print("|---|---|---|---|---|---|")
    for size, row in rows:
        goal = " / ".join(part or "-" for part in goals.get(size, ("", "", "")))
        print(
            f"| {size} | {row['open']:.0f} / {row['open_work']:.0f} "
            f"| {row['move_p50']:.1f} / {row['move_p95']:.1f} / {row['move_max']:.1f} "
            f"| {row['key_p50']:.1f} / {row['key_p95']:.1f} / {row['key_max']:.1f} "
            f"| {row['moves']} moves, {row['keys']} keys | {goal} |"
        )


if __name__ == "__main__":
    main()
