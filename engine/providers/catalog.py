"""What the models a deployment knows can do, offered in the editor's chain picker (GET /api/models).

Other models (an OpenAI-compatible server's own) are listed from the server and their abilities are
unknown (None); any name can still be typed into a chain.
"""

from __future__ import annotations

from dataclasses import dataclass

from engine.providers.config import DEFAULT_FALLBACK_VISION_MODEL


@dataclass(frozen=True)
class Abilities:
    vision: bool | None = None
    json: bool | None = None
    tools: bool | None = None
    streaming: bool | None = True  # every provider here streams


_GEMINI = Abilities(vision=True, json=True, tools=True)
_GROQ_TEXT = Abilities(vision=False, json=True, tools=True)

KNOWN_MODELS: dict[str, dict[str, Abilities]] = {
    "gemini": {
        "gemini-2.5-flash": _GEMINI,
        "gemini-2.5-flash-lite": _GEMINI,
        "gemini-2.5-pro": _GEMINI,
        "gemini-2.0-flash": _GEMINI,
    },
    "groq": {
        "llama-3.3-70b-versatile": _GROQ_TEXT,
        "llama-3.1-8b-instant": _GROQ_TEXT,
        DEFAULT_FALLBACK_VISION_MODEL: Abilities(vision=True, json=True, tools=True),
    },
}


def abilities_of(kind: str, model_id: str) -> Abilities:
    return KNOWN_MODELS.get(kind, {}).get(model_id, Abilities(streaming=True))
