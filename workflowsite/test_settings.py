"""Settings for the test suite: production settings with the few switches tests need."""

from __future__ import annotations

import os

os.environ.setdefault("DJANGO_SECRET_KEY", "weft-test-suite-secret-key-not-for-production-0123456789")
os.environ.setdefault("WEFT_INPROCESS_WORKER", "false")

from workflowsite.settings import *  # noqa: F403
from workflowsite.settings import STORAGES

# The test client speaks plain HTTP; the production redirect is proven by the deploy-check test.
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}
