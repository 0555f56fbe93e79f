"""Email to a run's owner when an Approval node of the run starts waiting (APPROVAL_NOTIFY_EMAIL, off by
default), with a signed link to the decision page. The link only names the approval: the page still needs
the owner's login, and anyone else gets a 404."""

from __future__ import annotations

import logging
import smtplib
from collections.abc import Sequence

from django.conf import settings
from django.core import signing
from django.core.mail import send_mail
from django.urls import reverse

from core.errors import NotFound
from runs.models import Approval, WorkflowRun

logger = logging.getLogger(__name__)

_LINK_SALT = "weft.runs.approval-link"


def approval_link_url(approval: Approval) -> str:
    link = signing.dumps({"run": str(approval.run_id), "node": approval.node_id}, salt=_LINK_SALT)
    return settings.SITE_URL + reverse("approval-link-page", kwargs={"link": link})


def approval_link_read(link: str) -> tuple[str, str]:
    """(run id, node id) that a link signed here names; a link not signed here (or cut) is a 404."""
    try:
        named = signing.loads(link, salt=_LINK_SALT)
    except signing.BadSignature as exc:
        raise NotFound("No such approval.") from exc
    return named["run"], named["node"]


def approvals_notify(*, run: WorkflowRun, approvals: Sequence[Approval]) -> None:
    """One email per newly asked approval, when APPROVAL_NOTIFY_EMAIL is on. A mail server that fails costs
    the email (logged), never the run."""
    if not settings.APPROVAL_NOTIFY_EMAIL or not approvals:
        return
    workflow = run.workflow.name if run.workflow_id else "an ad-hoc graph"
    for approval in approvals:
        body = (
            f"A run of {workflow} waits for your decision at step {approval.node_id}.\n\n"
            f"{approval.instructions}\n\n"
            f"Approve or reject it here (you will be asked to log in): {approval_link_url(approval)}\n\n"
            f"If no one decides by {approval.deadline:%Y-%m-%d %H:%M} UTC, the step is decided "
            f"'{approval.on_timeout}'.\n"
        )
        try:
            send_mail(
                f"Approval needed: {workflow}",
                body,
                settings.DEFAULT_FROM_EMAIL,
                [run.owner.email],
            )
        except (smtplib.SMTPException, OSError):
            logger.exception("could not email approval %s of run %s", approval.node_id, run.id)
