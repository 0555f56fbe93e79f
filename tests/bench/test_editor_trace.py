"""bench/editor.py's reading of a Chrome trace: each input event's main-thread time, dispatch to frame."""

from __future__ import annotations

from bench.editor import event_costs

MAIN = {"pid": 1, "tid": 7}


def task(ts: int, dur: int) -> dict:
    return {**MAIN, "ph": "X", "name": "RunTask", "ts": ts, "dur": dur}


def span(name: str, ts: int, dur: int, **data: str) -> dict:
    return {**MAIN, "ph": "X", "name": name, "ts": ts, "dur": dur, "args": {"data": data}}


def test_an_event_costs_its_task_and_the_frame_it_caused_up_to_the_commit():
    trace = {
        "traceEvents": [
            # Move 1: its task (hit testing and the handler) 0-2 ms, a frame task 5-9 ms ending in a Commit.
            task(0, 2000),
            span("EventDispatch", 500, 1000, type="pointermove"),
            task(5000, 4000),
            span("Paint", 7000, 1000),
            span("Commit", 8000, 1000),
            # Work after the commit (the script's own wait) is not the move's.
            task(9500, 3000),
            # Move 2: no frame of its own before the trace ends: left out.
            task(20000, 1000),
            span("EventDispatch", 20100, 500, type="pointermove"),
            # Another thread's work never counts.
            {"pid": 2, "tid": 9, "ph": "X", "name": "RunTask", "ts": 0, "dur": 50000},
        ]
    }

    assert event_costs(trace, "pointermove") == [6.0]
    assert event_costs(trace, "keydown") == []


def test_without_a_commit_the_paint_ends_the_frame():
    trace = [task(0, 1000), span("EventDispatch", 100, 200, type="keydown"), task(2000, 3000)]
    trace += [span("Paint", 2500, 500), task(10000, 500), span("EventDispatch", 10100, 100, type="keydown")]
    trace += [task(12000, 1000), span("Commit", 12500, 500)]

    assert event_costs(trace, "keydown") == [2.0, 1.5]


def test_a_task_recorded_twice_nested_counts_once():
    # Chromium records a task as RunTask and, inside it, ThreadControllerImpl::RunTask.
    trace = [
        task(0, 2000),
        span("ThreadControllerImpl::RunTask", 10, 1980),
        span("EventDispatch", 100, 500, type="keydown"),
    ]
    trace += [task(4000, 3000), span("ThreadControllerImpl::RunTask", 4010, 2980), span("Commit", 6000, 1000)]

    assert event_costs(trace, "keydown") == [5.0]
