"""`manage.py seed_demo`: a demo user with an example workflow, so a fresh install has something to open."""

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
DEMO_WORKFLOW_NAME = "Hello Weft"


def hello_weft_graph() -> dict[str, list[dict[str, Any]]]:
    """Text -> Prompt -> LLM -> Debug, laid out left to right."""
    nodes = [
        {
            "id": "topic",
            "type": "text",
            "position": {"x": 0, "y": 80},
            "data": {"label": "Topic", "text": "a loom weaving threads of light"},
        },
        {
            "id": "prompt",
            "type": "prompt",
            "position": {"x": 320, "y": 80},
            "data": {"label": "Prompt", "template": "Write a haiku about {{topic}}."},
        },
        {
            "id": "llm",
            "type": "llm",
            "position": {"x": 640, "y": 80},
            "data": {"label": "LLM", "temperature": 0.7, "maxOutputTokens": 256},
        },
        {
            "id": "debug",
            "type": "debug",
            "position": {"x": 960, "y": 80},
            "data": {"label": "Show the haiku"},
        },
    ]
    links = [
        ("topic", "text", "prompt", "topic"),
        ("prompt", "text", "llm", "prompt"),
        ("llm", "text", "debug", "value"),
    ]
    edges = [
        {
            "id": f"{source}-{target}",
            "source": source,
            "sourceHandle": out,
            "target": target,
            "targetHandle": into,
        }
        for source, out, target, into in links
    ]
    return {"nodes": nodes, "edges": edges}


class Command(BaseCommand):
    help = f"Create (or refresh) the demo user {DEMO_EMAIL} and the '{DEMO_WORKFLOW_NAME}' workflow."

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
        if not Workflow.objects.filter(owner=user, name=DEMO_WORKFLOW_NAME).exists():
            workflow_create(
                owner=user,
                name=DEMO_WORKFLOW_NAME,
                description="A topic fills a prompt, a model writes a haiku and Debug shows it.",
                **hello_weft_graph(),
            )
        self.stdout.write(f"Demo login: {DEMO_EMAIL} / {password}")
