"""Secrets stay secret: LLM API keys, API tokens, passwords and broker credentials appear in no log line
(every logger at DEBUG, in the captured log records and in the JSON lines the stdout handler writes),
no API response, no error and no admin page.

Proven elsewhere: tokens are stored only as a SHA-256 digest and shown once (tests/accounts/
test_api_tokens.py::test_created_token_is_shown_once_and_stored_only_as_a_digest) and session writes
need a CSRF token (::test_session_writes_require_a_csrf_token); see also test_csrf_* below.
"""

from __future__ import annotations

import io
import logging
import logging.config
from collections.abc import Iterator

import pytest
from django.conf import settings as django_settings
from rest_framework.test import APIClient

from accounts.models import ApiToken
from runs.models import WorkflowRun
from tests.brokers import drain
from tests.factories import DEFAULT_PASSWORD
from tests.graphs import text_llm_chain

GEMINI_KEY = "gemini-key-SECRET-3f9a1c7e"
GROQ_KEY = "groq-key-SECRET-8b2d4e6f"
WRONG_TOKEN = "weft_WRONG-token-SECRET-5c1e9a"
BROKER_PASSWORD = "broker-pw-SECRET-7d3b"


class Captured:
    def __init__(self) -> None:
        self.json_lines = io.StringIO()
        self.records: list[logging.LogRecord] = []

    def text(self) -> str:
        formatter = logging.Formatter("%(name)s %(levelname)s %(message)s")
        plain = "\n".join(formatter.format(record) for record in self.records)
        return plain + "\n" + self.json_lines.getvalue()


class _Keep(logging.Handler):
    def __init__(self, into: list[logging.LogRecord]) -> None:
        super().__init__(level=logging.DEBUG)
        self.into = into

    def emit(self, record: logging.LogRecord) -> None:
        self.into.append(record)


@pytest.fixture
def all_logs() -> Iterator[Captured]:
    """The production logging config with every logger at DEBUG; the JSON handler writes to a buffer."""
    captured = Captured()
    logging.config.dictConfig(django_settings.LOGGING)
    root = logging.getLogger()
    stdout_handler = root.handlers[0]
    stdout_handler.setStream(captured.json_lines)
    stdout_handler.setLevel(logging.DEBUG)
    keep = _Keep(captured.records)
    root.addHandler(keep)
    levels = {name: logging.getLogger(name).level for name in ["", *logging.root.manager.loggerDict]}
    for name in levels:
        logging.getLogger(name).setLevel(logging.DEBUG)
    try:
        yield captured
    finally:
        for name, level in levels.items():
            logging.getLogger(name).setLevel(level)
        logging.config.dictConfig(django_settings.LOGGING)


def assert_absent(text: str, secrets: list[str]) -> None:
    found = [secret for secret in secrets if secret in text]
    assert not found, f"secrets found: {found}"


@pytest.mark.django_db(transaction=True)
def test_no_key_token_or_password_reaches_logs_responses_errors_or_the_admin(
    settings, alice, alice_client, admin_client, broker, worker, fake_llm, all_logs
):
    settings.GEMINI_API_KEY, settings.GEMINI_BASE_URL = GEMINI_KEY, fake_llm.url
    settings.GROQ_API_KEY, settings.GROQ_BASE_URL = GROQ_KEY, fake_llm.url
    settings.LLM_MAX_ATTEMPTS = 1
    settings.LLM_TIMEOUT_SECONDS = 5

    # A token created and used, a wrong one refused, a failed password login.
    created = alice_client.post("/api/tokens", {"name": "ci"}, format="json").json()
    secret = created["token"]
    bearer = APIClient()
    bearer.credentials(HTTP_AUTHORIZATION=f"Bearer {secret}")
    wrong = APIClient()
    wrong.credentials(HTTP_AUTHORIZATION=f"Bearer {WRONG_TOKEN}")
    assert wrong.get("/api/runs").status_code == 401
    assert (
        APIClient()
        .post("/accounts/login/", {"login": alice.email, "password": "wrong-" + DEFAULT_PASSWORD})
        .status_code
        == 200
    )

    # A run that succeeds on Gemini, one where both providers fail, one where Gemini is unreachable.
    run_ids = [bearer.post("/api/execute", text_llm_chain(2), format="json").json()["runId"]]
    drain(broker, worker)
    fake_llm.fail_next("gemini", status=500)
    fake_llm.fail_next("groq", status=401)
    run_ids.append(bearer.post("/api/execute", text_llm_chain(2), format="json").json()["runId"])
    drain(broker, worker)
    settings.GEMINI_BASE_URL = "http://127.0.0.1:1"
    fake_llm.fail_next("groq", status=503)
    run_ids.append(bearer.post("/api/execute", text_llm_chain(2), format="json").json()["runId"])
    drain(broker, worker)
    assert [WorkflowRun.objects.get(pk=run_id).status for run_id in run_ids] == [
        "succeeded",
        "failed",
        "failed",
    ]
    # The providers really received the keys: what is absent below was present in the process.
    assert {r.headers.get("x-goog-api-key") for r in fake_llm.requests_for("gemini")} == {GEMINI_KEY}
    assert {r.headers.get("authorization") for r in fake_llm.requests_for("groq")} == {f"Bearer {GROQ_KEY}"}

    responses = [bearer.get("/api/runs"), bearer.get("/api/tokens")]
    for run_id in run_ids:
        responses += [bearer.get(f"/api/runs/{run_id}"), bearer.get(f"/api/runs/{run_id}/logs")]
        responses.append(admin_client.get(f"/admin/runs/workflowrun/{run_id}/change/"))
    token = ApiToken.objects.get(owner=alice, name="ci")
    responses += [
        admin_client.get(f"/admin/accounts/apitoken/{token.pk}/change/"),
        admin_client.get("/admin/accounts/apitoken/"),
        admin_client.get(f"/admin/accounts/user/{alice.pk}/change/"),
        admin_client.get("/admin/runs/workflowrun/"),
    ]
    assert all(response.status_code == 200 for response in responses)
    failed = responses[2 + 3].json()  # the second run's detail
    assert failed["nodeResults"][1]["errorMessage"]  # the error is reported, without the keys

    secrets = [GEMINI_KEY, GROQ_KEY, secret, WRONG_TOKEN, DEFAULT_PASSWORD, token.digest]
    assert_absent("\n".join(response.content.decode() for response in responses), secrets)
    assert_absent(all_logs.text(), secrets)
    assert any(
        "Unauthorized: /api/runs" in line for line in all_logs.text().splitlines()
    )  # logs were captured


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url",
    [f"amqp://weft:{BROKER_PASSWORD}@127.0.0.1:1/", f"redis://:{BROKER_PASSWORD}@127.0.0.1:1/0"],
    ids=["rabbitmq", "redis"],
)
def test_an_unreachable_brokers_password_is_in_neither_the_health_answer_nor_the_logs(
    settings, anon_client, all_logs, url
):
    settings.DRAMATIQ_BROKER_URL = url

    response = anon_client.get("/api/health")

    assert response.status_code == 503
    assert_absent(response.content.decode(), [BROKER_PASSWORD])
    assert_absent(all_logs.text(), [BROKER_PASSWORD])
    assert "health check broker failed" in all_logs.text()


@pytest.mark.django_db
@pytest.mark.parametrize(
    ("method", "url", "body"),
    [
        ("post", "/api/workflows", {"name": "x", "nodes": [], "edges": []}),
        ("post", "/api/execute", {"nodes": [], "edges": []}),
        ("post", "/api/tokens", {"name": "x"}),
        ("delete", "/api/tokens/1", None),
    ],
)
def test_csrf_is_enforced_on_every_kind_of_session_write(alice, method, url, body):
    client = APIClient(enforce_csrf_checks=True)
    client.force_login(alice)

    response = getattr(client, method)(url, body, format="json")

    assert response.status_code == 403
    assert "CSRF" in response.json()["detail"]


@pytest.mark.django_db
def test_a_bearer_token_needs_no_csrf_token(alice):
    from accounts.services import api_token_create

    client = APIClient(enforce_csrf_checks=True)
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {api_token_create(owner=alice, name='x').secret}")

    assert client.post("/api/tokens", {"name": "y"}, format="json").status_code == 201
