"""`manage.py seed_demo`: a demo user with example workflows, so a fresh install has something to open."""

from __future__ import annotations

import os
from typing import Any

from django.core.management.base import BaseCommand, CommandParser
from django.db import transaction

from accounts.models import User
from accounts.selectors import user_find_by_email
from workflows.models import Workflow
from workflows.services import workflow_create

DEMO_EMAIL = "demo@weft.local"
DEFAULT_DEMO_PASSWORD = "weft-demo-1234"  # noqa: S105 -- a documented local demo login, set on purpose


def _edges(links: list[tuple[str, str, str, str]]) -> list[dict[str, Any]]:
    return [
        {
            "id": f"{source}-{target}",
            "source": source,
            "sourceHandle": out,
            "target": target,
            "targetHandle": into,
        }
        for source, out, target, into in links
    ]


def _node(node_id: str, kind: str, x: int, y: int, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": kind, "position": {"x": x, "y": y}, "data": data}


def hello_weft_graph() -> dict[str, list[dict[str, Any]]]:
    """Text -> Prompt -> LLM -> Debug, laid out left to right."""
    nodes = [
        _node("topic", "text", 0, 80, label="Topic", text="a loom weaving threads of light"),
        _node("prompt", "prompt", 320, 80, label="Prompt", template="Write a haiku about {{topic}}."),
        _node("llm", "llm", 640, 80, label="LLM", temperature=0.7, maxOutputTokens=256),
        _node("debug", "debug", 960, 80, label="Show the haiku"),
    ]
    links = [
        ("topic", "text", "prompt", "topic"),
        ("prompt", "text", "llm", "prompt"),
        ("llm", "text", "debug", "value"),
    ]
    return {"nodes": nodes, "edges": _edges(links)}


CLASSIFY_SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["spam", "ham"]}},
    "required": ["label"],
}


def sort_the_mail_graph() -> dict[str, list[dict[str, Any]]]:
    """A model labels a message as JSON, Extract takes the label, a Condition routes the message to one of two
    Prompts (the other branch is skipped, not taken), and a Merge joins the branches for Debug."""
    nodes = [
        _node(
            "message", "text", 0, 140, label="Message", text="Congratulations! You WON a prize: reply now."
        ),
        _node(
            "classify",
            "llm",
            320,
            140,
            label="Classify",
            systemPrompt="Label the message: spam or ham.",
            temperature=0,
            jsonSchema=CLASSIFY_SCHEMA,
        ),
        _node("label", "extract", 640, 140, label="Label", path="$.label"),
        _node(
            "is-spam",
            "condition",
            960,
            140,
            label="Is it spam?",
            rules=[{"operator": "equals", "value": "spam"}],
        ),
        _node(
            "spam", "prompt", 1280, 0, label="Spam", template="Filed as {{label}}, not answered: {{message}}"
        ),
        _node(
            "ham", "prompt", 1280, 280, label="Ham", template="Filed as {{label}}, answer soon: {{message}}"
        ),
        _node("merge", "merge", 1600, 140, label="Either way"),
        _node("debug", "debug", 1920, 140, label="Where it went"),
    ]
    links = [
        ("message", "text", "classify", "prompt"),
        ("classify", "json", "label", "value"),
        ("label", "text", "is-spam", "value"),
        ("is-spam", "true", "spam", "label"),
        ("is-spam", "false", "ham", "label"),
        ("message", "text", "spam", "message"),
        ("message", "text", "ham", "message"),
        ("spam", "text", "merge", "values"),
        ("ham", "text", "merge", "values"),
        ("merge", "value", "debug", "value"),
    ]
    return {"nodes": nodes, "edges": _edges(links)}


DEMOS = {
    "Hello Weft": ("A topic fills a prompt, a model writes a haiku and Debug shows it.", hello_weft_graph),
    "Sort the mail": (
        "Branches: a model labels a message, a Condition sends it down one of two paths, a Merge joins them.",
        sort_the_mail_graph,
    ),
}


class Command(BaseCommand):
    help = f"Create (or refresh) the demo user {DEMO_EMAIL} and the demo workflows ({', '.join(DEMOS)})."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--password",
            default=os.environ.get("WEFT_DEMO_PASSWORD") or DEFAULT_DEMO_PASSWORD,
            help="The demo user's password (default: $WEFT_DEMO_PASSWORD, else the documented one).",
        )

    @transaction.atomic
    def handle(self, *args: Any, password: str, **options: Any) -> None:
        user = user_find_by_email(email=DEMO_EMAIL)
        if user is None:
            user = User.objects.create_user(email=DEMO_EMAIL, password=password, first_name="Demo")
        elif not user.check_password(password):
            # Re-running must leave a login that matches what is printed below.
            user.set_password(password)
            user.save(update_fields=["password"])
        for name, (description, build) in DEMOS.items():
            if not Workflow.objects.filter(owner=user, name=name).exists():
                workflow_create(owner=user, name=name, description=description, **build())
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {password}")
