"""Code nodes inside runs: outputs, prints in the run's logs, each way they fail, reuse by content key."""

from __future__ import annotations

import pytest

from runs.driving import run_execute
from runs.models import ExecutionLog, NodeResult, RunStatus, WorkflowRun
from runs.services import run_create
from tests.graphs import edge, graph, node

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("code_pool")]

PYTHON = (
    "def main(inputs):\n    print('shouting', inputs['text'])\n    return {'loud': inputs['text'].upper()}\n"
)
JAVASCRIPT = (
    "function main(inputs) {\n  console.log('shouting', inputs.text);\n"
    "  return { loud: inputs.text.toUpperCase() };\n}\n"
)


def code_graph(language: str, code: str, **data: object) -> dict[str, list]:
    return graph(
        [
            node("t", "text", text="hello"),
            node("c", "code", language=language, code=code, inputs=["text"], **data),
        ],
        [edge("t", "c", "text", "text")],
    )


def execute(owner, language: str, code: str, **data: object) -> WorkflowRun:
    run = run_create(owner=owner, graph=code_graph(language, code, **data), enqueue=False)
    return run_execute(run_id=str(run.id))


def result(run: WorkflowRun) -> NodeResult:
    return NodeResult.objects.get(run=run, node_id="c")


@pytest.mark.parametrize(("language", "code"), [("python", PYTHON), ("javascript", JAVASCRIPT)])
def test_a_code_node_outputs_what_main_returns_and_its_prints_reach_the_run_logs(alice, language, code):
    run = execute(alice, language, code)

    assert run.status == RunStatus.SUCCEEDED
    assert result(run).output == {"result": {"loud": "HELLO"}, "text": '{"loud":"HELLO"}'}
    logs = list(ExecutionLog.objects.filter(run=run, node_id="c").values_list("message", flat=True))
    assert any("shouting hello" in message for message in logs)


def test_a_python_error_names_the_line_of_the_users_code(alice):
    run = execute(alice, "python", "def main(inputs):\n    x = 1\n    return x / 0\n")

    assert run.status == RunStatus.FAILED
    failed = result(run)
    assert failed.error_kind == "code_error"
    assert 'File "<code>", line 3, in main' in failed.error_message
    assert "ZeroDivisionError: division by zero" in failed.error_message
    assert failed.error_message.endswith("(line 3)")
    assert "sandbox_python" not in failed.error_message


def test_a_javascript_error_names_the_line_of_the_users_code(alice):
    run = execute(alice, "javascript", "function main(inputs) {\n  return inputs.missing.field;\n}\n")

    failed = result(run)
    assert failed.error_kind == "code_error"
    assert "TypeError" in failed.error_message
    assert failed.error_message.endswith("(line 2)")
    assert "sandbox_js" not in failed.error_message


@pytest.mark.parametrize(
    ("code", "kind"),
    [
        ("function main(inputs) { for (;;) {} }", "code_timeout"),
        (
            "function main(inputs) { const a = []; for (;;) a.push(new Uint8Array(1 << 24).fill(1)); }",
            "code_memory",
        ),
        ("function main(inputs) { for (;;) console.log('x'.repeat(4096)); }", "code_output_limit"),
    ],
)
def test_code_that_runs_away_fails_its_node_with_the_kind_of_limit(alice, code, kind):
    run = execute(alice, "javascript", code, timeoutSeconds=1)

    assert run.status == RunStatus.FAILED
    assert result(run).error_kind == kind


def test_an_unchanged_code_node_is_reused_by_content_key(alice):
    first = execute(alice, "javascript", JAVASCRIPT)
    second = execute(alice, "javascript", JAVASCRIPT)
    changed = execute(alice, "javascript", JAVASCRIPT.replace("toUpperCase", "toLowerCase"))

    assert result(second).status == "reused"
    assert result(second).reused_from == result(first)
    assert result(second).output == result(first).output
    assert result(changed).status == "succeeded"
    assert result(changed).output["result"] == {"loud": "hello"}
