"""Request bodies shared by the workflows tests."""

from __future__ import annotations

from typing import Any

from tests.factories import text_to_debug_graph


def workflow_payload(name: str = "My flow", text: str = "hello", **extra: Any) -> dict[str, Any]:
    return {"name": name, "description": "", **text_to_debug_graph(text), **extra}
