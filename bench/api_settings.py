"""Settings for `bench/api.py` only: the product's settings, with a URL map adding a bare reference view."""

from __future__ import annotations

from workflowsite.settings import *  # noqa: F403

ROOT_URLCONF = "bench.api_urls"
