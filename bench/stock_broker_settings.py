"""Settings for `bench/start.py` only: the product's settings with Dramatiq's stock Redis broker, for the
side-by-side "before" figure."""

from __future__ import annotations

from workflowsite.settings import *  # noqa: F403
from workflowsite.settings import DRAMATIQ_BROKER

DRAMATIQ_BROKER = {**DRAMATIQ_BROKER, "BROKER": "dramatiq.brokers.redis.RedisBroker"}
