"""Writes for triggers: webhooks (create, update, rotate, call) and schedules (create, update, fire)."""

from __future__ import annotations

import functools
import io
import logging
import secrets
import zoneinfo
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from cronsim import CronSim, CronSimError
from django.core.cache import cache
from django.db import transaction
from django.utils import timezone
from rest_framework.exceptions import ParseError

import engine
from accounts.models import User
from accounts.services import token_digest
from core import tracing
from core.errors import DomainError, NotFound, RunRefused, errors_summary
from core.logging import HOOK_TOKEN_SHOWN_CHARS
from core.parsers import StrictJSONParser
from runs.inputs import run_inputs_validate
from runs.models import RunTrigger, WorkflowRun
from runs.ratelimit import webhook_rate_limit_count
from runs.services import run_start
from triggers.models import Schedule, Webhook
from triggers.signatures import webhook_signature_check
from workflows.models import Workflow
from workflows.selectors import workflow_published_version

logger = logging.getLogger(__name__)


class TriggerInvalid(DomainError):
    """A trigger setting that cannot work; `issues` are (path, message) pairs, one problem per path."""

    code = "trigger_invalid"

    def __init__(self, issues: list[tuple[str, str]]) -> None:
        errors = [{"path": path, "message": message} for path, message in dict(issues).items()]
        super().__init__(errors_summary(errors), errors=errors)
        self.issues = issues


class WebhookNotFound(NotFound):
    """No enabled webhook has this URL (unknown and disabled look the same from outside)."""


class WebhookBodyInvalid(DomainError):
    code = "body_invalid"


# Webhooks -----------------------------------------------------------------------------------


def _new_secret() -> str:
    return secrets.token_hex(32)


@dataclass(frozen=True)
class IssuedWebhook:
    """A webhook and what it was just given, which the API shows this once: the URL's token (None when it
    kept its URL) and the signing secret (None when it kept its secret, "" when calls need none)."""

    webhook: Webhook
    token: str | None
    signing_secret: str | None


def _issue_token(webhook: Webhook) -> str:
    token = secrets.token_urlsafe(32)
    webhook.token_digest = token_digest(token)
    webhook.token_prefix = token[:HOOK_TOKEN_SHOWN_CHARS]
    return token


@transaction.atomic
def webhook_create(
    *, owner: User, workflow: Workflow, name: str = "", signed: bool = True, enabled: bool = True
) -> IssuedWebhook:
    if workflow.owner_id != owner.pk:
        raise ValueError("a webhook can only start its owner's workflow")
    webhook = Webhook(
        owner=owner,
        workflow=workflow,
        name=name,
        enabled=enabled,
        signing_secret=_new_secret() if signed else "",
    )
    token = _issue_token(webhook)
    webhook.save(force_insert=True)
    return IssuedWebhook(webhook=webhook, token=token, signing_secret=webhook.signing_secret)


@transaction.atomic
def webhook_update(
    *, webhook: Webhook, name: str | None = None, enabled: bool | None = None, signed: bool | None = None
) -> IssuedWebhook:
    """Switching signing on issues a signing secret (shown this once); the URL stays."""
    issued_secret = None
    if name is not None:
        webhook.name = name
    if enabled is not None:
        webhook.enabled = enabled
    if signed is not None and signed != bool(webhook.signing_secret):
        webhook.signing_secret = _new_secret() if signed else ""
        issued_secret = webhook.signing_secret or None
    webhook.save()
    return IssuedWebhook(webhook=webhook, token=None, signing_secret=issued_secret)


@transaction.atomic
def webhook_rotate(*, webhook: Webhook) -> IssuedWebhook:
    """A new URL (the old one answers 404 at once) and, for a signed webhook, a new signing secret."""
    token = _issue_token(webhook)
    if webhook.signing_secret:
        webhook.signing_secret = _new_secret()
    webhook.save()
    return IssuedWebhook(webhook=webhook, token=token, signing_secret=webhook.signing_secret)


def webhook_delete(*, webhook: Webhook) -> None:
    webhook.delete()


def _body_inputs(workflow: Workflow, body: bytes) -> dict[str, Any]:
    """The body's top-level fields that name inputs of the published version (others are ignored:
    senders such as GitHub post far more than a workflow takes)."""
    if not body.strip():
        return {}
    try:
        payload = StrictJSONParser().parse(io.BytesIO(body))
    except ParseError as exc:
        raise WebhookBodyInvalid(f"The body must be a JSON object ({exc.detail}).") from exc
    if not isinstance(payload, dict):
        raise WebhookBodyInvalid("The body must be a JSON object.")
    version = workflow.versions.filter(number=workflow.published_version).only("nodes", "edges").first()
    names = {spec.name for spec in engine.graph_interface(version.graph).inputs} if version else set()
    return {name: value for name, value in payload.items() if name in names}


def webhook_call(*, token: str, body: bytes, signature: str | None, timestamp: str | None) -> WorkflowRun:
    """Start a run of the webhook's workflow (published version) with the body's fields as inputs.

    Raises WebhookNotFound, WebhookSignatureInvalid (triggers.signatures), RunRateLimited (the webhook's own
    limit), WebhookBodyInvalid, or run_start's refusals. A signed call that was refused after its signature
    was checked (429, 400, 409) may be sent again as it is: only a run uses up a signature.
    """
    webhook = (
        Webhook.objects.select_related("workflow__owner")
        .filter(token_digest=token_digest(token), enabled=True)
        .first()
        if token
        else None
    )
    if webhook is None:
        raise WebhookNotFound()
    # Signature first: a caller who knows the URL but not the secret must not use up the sender's limit.
    seen_key = webhook_signature_check(webhook=webhook, body=body, signature=signature, timestamp=timestamp)
    try:
        webhook_rate_limit_count(webhook_id=str(webhook.pk))
        started = run_start(
            owner=webhook.workflow.owner,
            trigger=RunTrigger.WEBHOOK,
            trigger_ref=str(webhook.pk),
            workflow=webhook.workflow,
            inputs=_body_inputs(webhook.workflow, body),
        )
    except Exception:
        if seen_key is not None:
            cache.delete(seen_key)
        raise
    Webhook.objects.filter(pk=webhook.pk).update(last_called_at=timezone.now())
    return started.run


# Schedules ----------------------------------------------------------------------------------


@functools.cache
def iana_time_zones() -> frozenset[str]:
    """The IANA time zone names of the system's database, without its aliases of no fixed meaning: `localtime`
    (whatever the server is set to), `posixrules`, and the `posix/` and `right/` copies (`right/` zones count
    leap seconds, so their clock is off by about half a minute)."""
    return frozenset(
        name
        for name in zoneinfo.available_timezones()
        if name not in {"localtime", "posixrules"} and not name.startswith(("posix/", "right/"))
    )


def _unknown_zone(name: str) -> TriggerInvalid:
    return TriggerInvalid(
        [("timezone", f"unknown time zone {name!r} (use an IANA name such as Europe/Paris)")]
    )


def _zone(name: str) -> ZoneInfo:
    try:
        return ZoneInfo(name)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise _unknown_zone(name) from exc


def _check_zone_name(name: str) -> None:
    """Only IANA names are saved; schedules saved before this check keep firing in the zone they name."""
    if name not in iana_time_zones():
        raise _unknown_zone(name)


def next_due(*, cron: str, zone_name: str, after: datetime) -> datetime:
    """The first time after `after` that `cron` matches in the time zone (as an aware datetime)."""
    zone = _zone(zone_name)
    if len(cron.split()) != 5:
        raise TriggerInvalid([("cron", "needs exactly 5 fields: minute hour day-of-month month day-of-week")])
    try:
        return next(iter(CronSim(cron, after.astimezone(zone).replace(second=0, microsecond=0))))
    except CronSimError as exc:
        raise TriggerInvalid(
            [("cron", f"{exc} (fields: minute hour day-of-month month day-of-week)")]
        ) from exc
    except StopIteration as exc:
        raise TriggerInvalid([("cron", "never matches a date")]) from exc


def _schedule_check_inputs(*, owner: User, workflow: Workflow, inputs: Any) -> None:
    """The inputs checked as the run API checks them, against the interface a firing would run: the published
    version's, or before the first publication the latest saved version's (the workflow's own graph)."""
    if not isinstance(inputs, Mapping):
        raise TriggerInvalid([("inputs", "must be an object of input values by name")])
    graph = (
        workflow_published_version(workflow=workflow).graph
        if workflow.published_version is not None
        else workflow.graph
    )
    try:
        run_inputs_validate(owner=owner, graph=graph, values=inputs)
    except engine.InputsInvalid as exc:
        raise TriggerInvalid([(issue.path, issue.message) for issue in exc.issues]) from exc


@transaction.atomic
def schedule_create(
    *,
    owner: User,
    workflow: Workflow,
    cron: str,
    timezone_name: str = "UTC",
    inputs: Mapping[str, Any] | None = None,
    name: str = "",
    enabled: bool = True,
) -> Schedule:
    if workflow.owner_id != owner.pk:
        raise ValueError("a schedule can only start its owner's workflow")
    inputs = dict(inputs or {})
    _check_zone_name(timezone_name)
    _schedule_check_inputs(owner=owner, workflow=workflow, inputs=inputs)
    due = next_due(cron=cron, zone_name=timezone_name, after=timezone.now())
    return Schedule.objects.create(
        owner=owner,
        workflow=workflow,
        name=name,
        cron=cron,
        timezone=timezone_name,
        inputs=inputs,
        enabled=enabled,
        next_run_at=due if enabled else None,
    )


@transaction.atomic
def schedule_update(
    *,
    schedule: Schedule,
    cron: str | None = None,
    timezone_name: str | None = None,
    inputs: Mapping[str, Any] | None = None,
    name: str | None = None,
    enabled: bool | None = None,
) -> Schedule:
    if cron is not None:
        schedule.cron = cron
    if timezone_name is not None:
        _check_zone_name(timezone_name)
        schedule.timezone = timezone_name
    if inputs is not None:
        _schedule_check_inputs(owner=schedule.owner, workflow=schedule.workflow, inputs=inputs)
        schedule.inputs = dict(inputs)
    if name is not None:
        schedule.name = name
    if enabled is not None:
        schedule.enabled = enabled
    due = next_due(cron=schedule.cron, zone_name=schedule.timezone, after=timezone.now())
    schedule.next_run_at = due if schedule.enabled else None
    schedule.save()
    return schedule


def schedule_delete(*, schedule: Schedule) -> None:
    schedule.delete()


@dataclass(frozen=True)
class Firing:
    schedule_id: str
    due_at: datetime
    run_id: str | None
    error: str


def _fire_one(now: datetime) -> Firing | None:
    """Claim one due schedule, advance it past `now` and start its run, in one transaction.

    SKIP LOCKED lets several schedulers work side by side: a row one of them holds is invisible to the
    others, and once it commits its next_run_at is in the future. Advancing past `now` (not by one step)
    is why a schedule that was due many times during a downtime fires once.
    """
    with transaction.atomic():
        schedule = (
            Schedule.objects.select_for_update(skip_locked=True, of=("self",))
            .select_related("workflow__owner")
            .filter(enabled=True, next_run_at__lte=now)
            .order_by("next_run_at")
            .first()
        )
        if schedule is None:
            return None
        due_at = schedule.next_run_at
        try:
            schedule.next_run_at = next_due(cron=schedule.cron, zone_name=schedule.timezone, after=now)
        except TriggerInvalid as exc:  # a time zone that vanished from the system's database
            schedule.enabled, schedule.next_run_at = False, None
            schedule.last_error = str(exc)
            schedule.save(update_fields=["enabled", "next_run_at", "last_error", "updated_at"])
            return Firing(str(schedule.pk), due_at, None, schedule.last_error)
        run_id, error = None, ""
        try:
            with (
                tracing.span("schedule fire", {"weft.schedule.id": str(schedule.pk)}),
                transaction.atomic(),
            ):
                started = run_start(
                    owner=schedule.workflow.owner,
                    trigger=RunTrigger.SCHEDULE,
                    trigger_ref=str(schedule.pk),
                    workflow=schedule.workflow,
                    inputs=schedule.inputs,
                )
                run_id = str(started.run.pk)
        except (RunRefused, engine.InputsInvalid, engine.GraphInvalid) as exc:
            error = str(exc)
            logger.warning("schedule %s did not start a run: %s", schedule.pk, error)
        schedule.last_run_at = now
        schedule.last_run_id = run_id
        schedule.last_error = error
        schedule.save(update_fields=["next_run_at", "last_run_at", "last_run_id", "last_error", "updated_at"])
    return Firing(str(schedule.pk), due_at, run_id, error)


def schedules_fire_due(*, now: datetime | None = None, limit: int = 1000) -> list[Firing]:
    """Fire every schedule due at `now` (default: the current time) once; returns what was fired."""
    now = now or timezone.now()
    fired: list[Firing] = []
    while len(fired) < limit and (firing := _fire_one(now)) is not None:
        fired.append(firing)
    return fired
