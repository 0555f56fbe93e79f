"""Every model a user can pick for a chain (GET /api/models): the known models of the site's and their own
Gemini and Groq connections, and what each OpenAI-compatible server lists, with abilities and prices."""

from __future__ import annotations

import hashlib
import logging
from typing import Any

from django.core.cache import cache

import engine
from accounts.models import User
from connections.selectors import usable_connections
from engine.providers.base import AttemptFailed
from engine.providers.catalog import KNOWN_MODELS, abilities_of

logger = logging.getLogger(__name__)

# A server's own list is asked for at most this often, and must answer within the timeout.
LISTED_MODELS_SECONDS = 300
LISTING_TIMEOUT_SECONDS = 5.0


def model_catalog(*, owner: User, prices: engine.PriceTable) -> list[dict[str, Any]]:
    entries = []
    for _, connection in sorted(usable_connections(owner=owner).items()):
        if connection.kind in KNOWN_MODELS:
            model_ids = list(KNOWN_MODELS[connection.kind])
        else:
            model_ids = _listed_models(connection)
        for model_id in model_ids:
            entries.append(_entry(connection, model_id, prices))
    return entries


def _entry(connection: engine.ConnectionConfig, model_id: str, prices: engine.PriceTable) -> dict[str, Any]:
    abilities = abilities_of(connection.kind, model_id)
    price = None if connection.local else prices.price_for(connection.kind, model_id)
    free = connection.local
    return {
        "id": f"{connection.slug}/{model_id}",
        "connection": connection.slug,
        "modelId": model_id,
        "capabilities": {
            "vision": abilities.vision,
            "json": abilities.json,
            "tools": abilities.tools,
            "streaming": abilities.streaming,
        },
        "inputPricePerMillion": 0.0 if free else (float(price.input) if price else None),
        "outputPricePerMillion": 0.0 if free else (float(price.output) if price else None),
    }


def _listed_models(connection: engine.ConnectionConfig) -> list[str]:
    """The server's own list, cached; empty (and logged) when it does not answer or is refused."""
    if connection.refusal:
        return []
    # The key identifies the connection's settings without holding its secret.
    identity = f"{connection.slug}\n{connection.base_url}\n{connection.api_key}".encode()
    key = f"connections:models:{hashlib.sha256(identity).hexdigest()}"
    listed = cache.get(key)
    if listed is None:
        provider = engine.provider_for(connection, timeout_s=LISTING_TIMEOUT_SECONDS)
        try:
            listed = provider.list_models()
        except AttemptFailed as failure:
            logger.warning("models of connection %s not listed: %s", connection.slug, failure.message)
            return []
        cache.set(key, listed, LISTED_MODELS_SECONDS)
    return listed
