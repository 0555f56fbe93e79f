"""Approval emails (APPROVAL_NOTIFY_EMAIL, off by default): the run's owner is told once, with a signed link
that leads them, logged in, to the run page; the link is a 404 for anyone else, or once tampered with."""

from __future__ import annotations

import re

import pytest
from django.core import mail

import engine
from runs.approvals import approvals_request
from runs.models import Approval
from tests.runs.helpers import waiting_run

pytestmark = pytest.mark.django_db


@pytest.fixture
def notifying(settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.APPROVAL_NOTIFY_EMAIL = True
    settings.SITE_URL = "https://weft.example"
    return settings


def emailed_link(message: mail.EmailMessage) -> str:
    [link] = re.findall(r"https://weft\.example(/approvals/\S+/)", message.body)
    return link


def test_no_email_is_sent_unless_the_setting_asks(alice, llm_settings, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"

    waiting_run(alice)

    assert mail.outbox == []


def test_the_owner_is_emailed_what_the_approval_asks_with_a_link_to_decide_it(
    alice, alice_client, llm_settings, notifying
):
    run = waiting_run(alice)

    [message] = mail.outbox
    assert message.to == ["alice@example.com"]
    assert message.subject == "Approval needed: an ad-hoc graph"
    assert "Publish echo: write a post?" in message.body
    response = alice_client.get(emailed_link(message))
    assert (response.status_code, response["Location"]) == (302, f"/runs/{run.id}/")


def test_the_link_needs_a_login_and_is_a_404_for_anyone_else_or_once_tampered_with(
    alice, client, bob_client, llm_settings, notifying
):
    waiting_run(alice)
    link = emailed_link(mail.outbox[0])

    anonymous = client.get(link)
    assert anonymous.status_code == 302
    assert anonymous["Location"].startswith("/accounts/login/?next=")
    assert bob_client.get(link).status_code == 404
    client.force_login(alice)
    assert client.get(link[:-3] + "x/").status_code == 404


def test_an_approval_asked_again_when_the_run_waits_again_is_not_emailed_again(
    alice, llm_settings, notifying
):
    run = waiting_run(alice)
    first = Approval.objects.get(run=run)

    again = engine.ApprovalRequested("review", "a post", "Publish?", 60.0, "reject")
    approvals_request(run=run, requests=[again])

    assert len(mail.outbox) == 1
    assert Approval.objects.get(run=run).deadline == first.deadline
