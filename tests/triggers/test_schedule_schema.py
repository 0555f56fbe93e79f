"""The OpenAPI schema of the schedule endpoints describes what they accept: the cron pattern and the IANA time
zones, so that clients and schema-driven fuzzers can build a schedule that is saved."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from triggers.serializers import CRON_PATTERN
from triggers.services import iana_time_zones

pytestmark = pytest.mark.django_db

DOCUMENTED_FORMS = [
    "0 9 * * 1-5",
    "*/15 * * * *",
    "30 9 * * *",
    "0 0 L * *",
    "0 9 * * MON-FRI",
    "0 12 1,15 JAN-JUN *",
    "5-55/10 8-18 * * 5L",
    "0 9 * * 1#2",
]


@pytest.fixture(scope="module")
def schema(django_db_blocker) -> dict:
    from drf_spectacular.generators import SchemaGenerator

    with django_db_blocker.unblock():
        return SchemaGenerator().get_schema(request=None, public=True)


@pytest.fixture
def write_fields(schema) -> dict:
    return schema["components"]["schemas"]["ScheduleWriteRequest"]["properties"]


def _resolved(schema: dict, field: dict) -> dict:
    """The field with its `allOf: [{$ref}]` (how drf-spectacular shares an enum) merged in."""
    merged = {key: value for key, value in field.items() if key != "allOf"}
    for part in field.get("allOf", []):
        merged.update(schema["components"]["schemas"][part["$ref"].rsplit("/", 1)[1]])
    return merged


def test_the_schema_gives_the_cron_pattern_a_description_and_an_example(write_fields):
    cron = write_fields["cron"]

    assert cron["pattern"] == CRON_PATTERN
    assert "minute (0-59) hour (0-23) day-of-month (1-31) month" in cron["description"]
    assert re.fullmatch(cron["pattern"], cron["example"])


def test_the_schema_lists_the_iana_time_zones_and_no_alias(schema, write_fields):
    timezone = _resolved(schema, write_fields["timezone"])
    zones = timezone["enum"]

    assert zones == sorted(iana_time_zones())
    assert {"UTC", "Europe/Paris", "Asia/Kolkata"} <= set(zones)
    assert "localtime" not in zones
    assert not [zone for zone in zones if zone.startswith(("posix/", "right/"))]
    assert timezone["example"] == "Europe/Paris"


@pytest.mark.parametrize("cron", DOCUMENTED_FORMS)
def test_documented_forms_match_the_pattern_and_are_saved(alice_client, writer, cron):
    response = alice_client.post(
        f"/api/workflows/{writer.pk}/schedules",
        {"cron": cron, "timezone": "Europe/Paris", "inputs": {"topic": "x"}},
        format="json",
    )

    assert re.fullmatch(CRON_PATTERN, cron)
    assert response.status_code == 201, response.json()


def test_expressions_drawn_from_the_pattern_have_five_valid_fields(alice_client, writer):
    """Before, the schema said only "a string": none of the strings drawn from it was a cron expression. Drawn
    from the pattern (and maxLength), an expression can still be refused for a descending range (`8-0`) or
    for days that no month has (`31` in `FEB`), which a regular expression cannot rule out; never for its
    shape."""
    answers: list[tuple[int, str]] = []

    @settings(max_examples=50, derandomize=True, database=None, suppress_health_check=list(HealthCheck))
    @given(
        cron=st.from_regex(CRON_PATTERN, fullmatch=True).filter(lambda cron: len(cron) <= 100),
        zone=st.sampled_from(sorted(iana_time_zones())),
    )
    def post(cron: str, zone: str) -> None:
        response = alice_client.post(
            f"/api/workflows/{writer.pk}/schedules",
            {"cron": cron, "timezone": zone, "inputs": {"topic": "x"}},
            format="json",
        )
        message = "" if response.status_code == 201 else response.json()["errors"][0]["message"]
        answers.append((response.status_code, message))

    post()

    saved = [status for status, _ in answers if status == 201]
    refused = [message for status, message in answers if status != 201]
    assert len(saved) >= len(answers) // 5
    out_of_order_or_never = re.compile(
        r"Bad (minute|hour|day-of-month|month|day-of-week) |never matches a date"
    )
    assert all(out_of_order_or_never.match(message) for message in refused), refused
