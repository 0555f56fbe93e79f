"""The pure ES modules (graph edits, cycle check, undo stack, layout, schema checks, run state, polling),
unit-tested inside Chromium: tests/js/*.test.js import them from the live server's /static/js/."""

from __future__ import annotations

from pathlib import Path

import pytest

JS_TESTS = Path(__file__).resolve().parents[1] / "js"

pytestmark = pytest.mark.browser


def test_js_logic_modules_pass_their_unit_tests(page, site):
    def serve(route):
        name = route.request.url.split("/__jstests__/", 1)[1]
        if name == "index.html":
            route.fulfill(status=200, content_type="text/html", body="<!DOCTYPE html><title>js tests</title>")
        else:
            route.fulfill(status=200, content_type="text/javascript", body=(JS_TESTS / name).read_text())

    page.route(f"{site}/__jstests__/**", serve)
    page.goto(f"{site}/__jstests__/index.html")
    files = sorted(path.name for path in JS_TESTS.glob("*.test.js"))
    assert files, "no JS test files found"

    results = page.evaluate(
        """async (files) => {
            for (const file of files) await import(`/__jstests__/${file}`);
            const harness = await import("/__jstests__/harness.js");
            return harness.run();
        }""",
        files,
    )

    failures = [f"{r['name']}: {r['error']}" for r in results if not r["ok"]]
    assert not failures, "\n\n".join(failures)
    assert len(results) >= 15
