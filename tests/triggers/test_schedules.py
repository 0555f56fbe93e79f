"""Schedules: cron, time-zone and input checks, due firings, missed firings after downtime, several
schedulers."""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from runs.models import RunTrigger, WorkflowRun
from tests.factories import UserFactory
from tests.graphs import callable_graph
from triggers.models import Schedule
from triggers.services import schedule_create, schedules_fire_due
from workflows.services import workflow_create, workflow_publish, workflow_unpublish, workflow_update

pytestmark = pytest.mark.django_db

T0 = datetime(2026, 3, 2, 10, 0, tzinfo=UTC)  # a Monday


def _due_now(schedule: Schedule, when: datetime) -> Schedule:
    Schedule.objects.filter(pk=schedule.pk).update(next_run_at=when)
    schedule.refresh_from_db()
    return schedule


# The API ------------------------------------------------------------------------------------


def test_creating_a_schedule_computes_its_next_run_in_its_time_zone(alice_client, writer):
    response = alice_client.post(
        f"/api/workflows/{writer.pk}/schedules",
        {"cron": "30 9 * * *", "timezone": "Asia/Kolkata", "inputs": {"topic": "news"}, "name": "Daily"},
        format="json",
    )

    assert response.status_code == 201
    body = response.json()
    next_run = datetime.fromisoformat(body["nextRunAt"])
    assert next_run > timezone.now()
    assert (next_run.astimezone(UTC).hour, next_run.astimezone(UTC).minute) == (4, 0)  # 09:30 IST
    assert (body["cron"], body["timezone"], body["inputs"], body["enabled"]) == (
        "30 9 * * *",
        "Asia/Kolkata",
        {"topic": "news"},
        True,
    )


@pytest.mark.parametrize(
    ("body", "path", "message"),
    [
        ({"cron": "61 * * * *"}, "cron", "Bad minute"),
        ({"cron": "* * * *"}, "cron", "needs exactly 5 fields"),
        ({"cron": "* * * * * *"}, "cron", "needs exactly 5 fields"),
        ({"cron": "0 9 31 2 *"}, "cron", ""),
        ({"cron": "0 9 * * *", "timezone": "Mars/Olympus"}, "timezone", "unknown time zone"),
        ({"cron": "0 9 * * *", "timezone": "localtime"}, "timezone", "unknown time zone 'localtime'"),
        ({"cron": "0 9 * * *", "timezone": "posix/Europe/Paris"}, "timezone", "use an IANA name"),
        ({"cron": "0 9 * * *", "timezone": "right/Europe/Paris"}, "timezone", "use an IANA name"),
        ({"cron": "0 9 * * *", "timezone": "Europe/../Europe/Paris"}, "timezone", "unknown time zone"),
        ({"cron": "0 9 * * *", "inputs": ["x"]}, "inputs", "Expected a dictionary"),
        ({}, "cron", "This field is required."),
    ],
)
def test_a_schedule_that_cannot_work_is_a_400_with_a_readable_message(
    alice_client, writer, body, path, message
):
    body = {"inputs": {"topic": "x"}, **body}
    response = alice_client.post(f"/api/workflows/{writer.pk}/schedules", body, format="json")

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == path
    assert message in error["message"]
    assert not Schedule.objects.exists()


@pytest.mark.parametrize(
    ("inputs", "errors"),
    [
        ({}, [{"path": "inputs.topic", "message": "is required"}]),
        ({"topic": 5}, [{"path": "inputs.topic", "message": "must be a string (a text input)"}]),
        (
            {"topic": "x", "tone": "dry"},
            [
                {
                    "path": "inputs.tone",
                    "message": "the workflow has no input named 'tone' (inputs: topic, style, photo)",
                }
            ],
        ),
        (
            {"topic": "x", "photo": "ftp://example.com/cat.png"},
            [{"path": "inputs.photo", "message": "must be an http:// or https:// URL"}],
        ),
    ],
)
def test_schedule_inputs_are_checked_on_save_as_the_run_api_checks_them(alice_client, writer, inputs, errors):
    url = f"/api/workflows/{writer.pk}/schedules"

    created = alice_client.post(url, {"cron": "0 9 * * *", "inputs": inputs}, format="json")
    as_a_run = alice_client.post(f"/api/workflows/{writer.pk}/runs", {"inputs": inputs}, format="json")

    assert created.status_code == 400
    assert created.json()["errors"] == errors
    assert as_a_run.status_code == 400
    assert as_a_run.json()["errors"] == errors
    assert not Schedule.objects.exists()


def test_changing_a_schedules_inputs_checks_them_too(alice, alice_client, writer):
    schedule = schedule_create(owner=alice, workflow=writer, cron="0 9 * * *", inputs={"topic": "x"})

    response = alice_client.patch(f"/api/schedules/{schedule.pk}", {"inputs": {"topic": 1}}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "inputs.topic", "message": "must be a string (a text input)"}
    ]
    schedule.refresh_from_db()
    assert schedule.inputs == {"topic": "x"}


def test_before_the_first_publication_inputs_are_checked_against_the_latest_saved_version(
    alice, alice_client
):
    draft = workflow_create(owner=alice, name="Draft", **callable_graph())
    url = f"/api/workflows/{draft.pk}/schedules"

    refused = alice_client.post(url, {"cron": "0 9 * * *", "inputs": {"subject": "x"}}, format="json")
    accepted = alice_client.post(url, {"cron": "0 9 * * *", "inputs": {"topic": "x"}}, format="json")

    assert refused.status_code == 400
    assert [e["path"] for e in refused.json()["errors"]] == ["inputs.subject", "inputs.topic"]
    assert accepted.status_code == 201


@pytest.mark.parametrize("zone", ["UTC", "Europe/Paris", "America/Argentina/Buenos_Aires", "Etc/GMT+5"])
def test_iana_time_zones_are_accepted(alice_client, writer, zone):
    response = alice_client.post(
        f"/api/workflows/{writer.pk}/schedules",
        {"cron": "0 9 * * *", "timezone": zone, "inputs": {"topic": "x"}},
        format="json",
    )

    assert response.status_code == 201
    assert response.json()["timezone"] == zone


def test_changing_the_time_zone_to_an_alias_is_a_400(alice, alice_client, writer):
    schedule = schedule_create(owner=alice, workflow=writer, cron="0 9 * * *", inputs={"topic": "x"})

    response = alice_client.patch(f"/api/schedules/{schedule.pk}", {"timezone": "localtime"}, format="json")

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "timezone"
    schedule.refresh_from_db()
    assert schedule.timezone == "UTC"


def test_disabling_clears_the_next_run_and_enabling_computes_it(alice_client, writer):
    created = alice_client.post(
        f"/api/workflows/{writer.pk}/schedules",
        {"cron": "0 * * * *", "inputs": {"topic": "x"}},
        format="json",
    ).json()

    off = alice_client.patch(f"/api/schedules/{created['id']}", {"enabled": False}, format="json").json()
    on = alice_client.patch(
        f"/api/schedules/{created['id']}", {"enabled": True, "cron": "5 * * * *"}, format="json"
    )

    assert (off["enabled"], off["nextRunAt"]) == (False, None)
    assert datetime.fromisoformat(on.json()["nextRunAt"]).minute == 5


def test_another_users_schedules_are_404(alice, bob_client, writer, django_assert_max_num_queries):
    schedule = schedule_create(owner=alice, workflow=writer, cron="0 9 * * *", inputs={"topic": "x"})

    assert bob_client.get(f"/api/workflows/{writer.pk}/schedules").status_code == 404
    assert bob_client.post(f"/api/workflows/{writer.pk}/schedules", {"cron": "* * * * *"}).status_code == 404
    assert bob_client.get(f"/api/schedules/{schedule.pk}").status_code == 404
    assert (
        bob_client.patch(f"/api/schedules/{schedule.pk}", {"enabled": False}, format="json").status_code
        == 404
    )
    assert bob_client.delete(f"/api/schedules/{schedule.pk}").status_code == 404
    assert Schedule.objects.get(pk=schedule.pk).enabled is True


def test_the_schedule_list_is_paginated_with_few_queries(
    alice, alice_client, writer, django_assert_max_num_queries
):
    for minute in range(3):
        schedule_create(owner=alice, workflow=writer, cron=f"{minute} 9 * * *", inputs={"topic": "x"})

    with django_assert_max_num_queries(5):
        page = alice_client.get(f"/api/workflows/{writer.pk}/schedules", {"limit": 2}).json()

    assert page["count"] == 3
    assert [s["cron"] for s in page["results"]] == ["2 9 * * *", "1 9 * * *"]
    assert page["next"] is not None


# Firing -------------------------------------------------------------------------------------


def test_a_due_schedule_starts_one_run_with_its_inputs_and_moves_to_its_next_time(alice, writer):
    schedule = _due_now(
        schedule_create(owner=alice, workflow=writer, cron="*/15 * * * *", inputs={"topic": "tides"}), T0
    )

    fired = schedules_fire_due(now=T0 + timedelta(seconds=20))
    again = schedules_fire_due(now=T0 + timedelta(seconds=40))

    assert len(fired) == 1
    assert again == []
    run = WorkflowRun.objects.get()
    assert (run.trigger, run.trigger_ref, run.inputs, run.workflow_version) == (
        RunTrigger.SCHEDULE,
        str(schedule.pk),
        {"topic": "tides"},
        1,
    )
    schedule.refresh_from_db()
    assert schedule.next_run_at == T0 + timedelta(minutes=15)
    assert (schedule.last_run_id, schedule.last_error) == (run.pk, "")


def test_a_schedule_missed_during_downtime_fires_once(alice, writer):
    schedule = _due_now(
        schedule_create(owner=alice, workflow=writer, cron="* * * * *", inputs={"topic": "x"}), T0
    )

    back_up = T0 + timedelta(hours=2, minutes=7, seconds=30)  # 127 firings were missed
    fired = schedules_fire_due(now=back_up)

    assert len(fired) == 1
    assert WorkflowRun.objects.count() == 1
    schedule.refresh_from_db()
    assert schedule.next_run_at == T0 + timedelta(hours=2, minutes=8)


def test_a_firing_that_cannot_start_a_run_is_recorded_and_the_schedule_moves_on(alice, writer):
    schedule = _due_now(
        schedule_create(owner=alice, workflow=writer, cron="0 * * * *", inputs={"topic": "x"}), T0
    )
    # The inputs fitted when saved; the version published since calls its required input `subject`.
    renamed = callable_graph()
    next(n for n in renamed["nodes"] if n["id"] == "topic")["data"]["name"] = "subject"
    workflow_publish(
        workflow=workflow_update(
            workflow=writer,
            name=writer.name,
            description="",
            **renamed,
            expected_version=writer.version,
            saved_by=alice,
        )
    )

    schedules_fire_due(now=T0)
    schedule.refresh_from_db()
    first_error = schedule.last_error
    workflow_unpublish(workflow=writer)
    _due_now(schedule, T0 + timedelta(hours=1))
    schedules_fire_due(now=T0 + timedelta(hours=1))
    schedule.refresh_from_db()

    assert first_error.startswith("inputs.topic: the workflow has no input named 'topic'")
    assert "not published" in schedule.last_error
    assert schedule.next_run_at == T0 + timedelta(hours=2)
    assert not WorkflowRun.objects.exists()


def test_runscheduler_once_fires_what_is_due(alice, writer, capsys):
    schedule = schedule_create(owner=alice, workflow=writer, cron="0 9 * * *", inputs={"topic": "x"})
    _due_now(schedule, timezone.now() - timedelta(minutes=1))

    call_command("runscheduler", "--once")

    assert "1 schedule(s) fired" in capsys.readouterr().out
    assert WorkflowRun.objects.filter(trigger=RunTrigger.SCHEDULE).count() == 1


@pytest.mark.services
@pytest.mark.django_db(transaction=True)
def test_two_schedulers_over_a_simulated_hour_fire_each_due_time_exactly_once(settings):
    """Two scheduler threads, each with its own PostgreSQL connection, tick at the same simulated instants
    (every 20 s for an hour) against the same schedules; every due time starts exactly one run."""
    assert connection.vendor == "postgresql"
    settings.RUN_MAX_ACTIVE_PER_USER = 1000
    settings.EXECUTE_RATE_LIMIT = "1000/m"
    alice = UserFactory(email="alice@example.com")
    writer = workflow_publish(workflow=workflow_create(owner=alice, name="Writer", **callable_graph()))
    every_5 = _due_now(
        schedule_create(owner=alice, workflow=writer, cron="*/5 * * * *", inputs={"topic": "a"}), T0
    )
    every_min = _due_now(
        schedule_create(owner=alice, workflow=writer, cron="* * * * *", inputs={"topic": "b"}), T0
    )
    ticks = [T0 + timedelta(seconds=20 * i) for i in range(180)]  # 10:00:00 .. 10:59:40
    in_step = threading.Barrier(2)
    fired: dict[str, list] = {"one": [], "two": []}
    errors: list[BaseException] = []

    def scheduler(name: str) -> None:
        try:
            for now in ticks:
                in_step.wait(timeout=30)
                fired[name].extend(schedules_fire_due(now=now))
        except BaseException as exc:
            errors.append(exc)
            in_step.abort()
        finally:
            connection.close()

    threads = [threading.Thread(target=scheduler, args=(name,)) for name in fired]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=300)

    assert errors == []
    firings = fired["one"] + fired["two"]
    due_times = {
        str(every_5.pk): [T0 + timedelta(minutes=5 * i) for i in range(12)],
        str(every_min.pk): [T0 + timedelta(minutes=i) for i in range(60)],
    }
    for schedule_id, expected in due_times.items():
        assert sorted(f.due_at for f in firings if f.schedule_id == schedule_id) == expected
    assert all(f.error == "" for f in firings)
    assert WorkflowRun.objects.filter(trigger=RunTrigger.SCHEDULE).count() == 72


def test_schedule_inputs_the_database_cannot_store_are_a_400(alice_client, writer):
    response = alice_client.post(
        f"/api/workflows/{writer.pk}/schedules",
        {"cron": "0 9 * * *", "inputs": {"topic": "a\x00b"}},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "inputs.topic", "message": "must not contain NUL characters."}
    ]
    assert not Schedule.objects.exists()
