"""Settings for the test suite: production settings with the few switches tests need."""

from __future__ import annotations

import os
import tempfile
from pathlib import Path

os.environ.setdefault("DJANGO_SECRET_KEY", "weft-test-suite-secret-key-not-for-production-0123456789")
os.environ.setdefault("WEFT_INPROCESS_WORKER", "false")
if not os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
    # The session's own metrics directory (its worker subprocesses inherit it): the counts another session on
    # this machine makes never reach this one's scrapes.
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="weft-test-metrics-")
# A fixed Fernet key for the suite only (tests that rotate keys set their own).
os.environ.setdefault("WEFT_ENCRYPTION_KEYS", "d2VmdC10ZXN0LXN1aXRlLWtleS0wMDAwMDAwMDAwMDA=")

from workflowsite.settings import *  # noqa: F403
from workflowsite.settings import DATABASES, STORAGES

# The test client speaks plain HTTP; the production redirect is proven by the deploy-check test.
SECURE_SSL_REDIRECT = False
PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
STORAGES = {**STORAGES, "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"}}

if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # A file, like `make run`'s, so that the test database gets the same WAL journal and busy timeout
    # (settings.py). pytest-django's default, a shared-cache in-memory database, ignores the timeout: a worker
    # thread's write that met another connection's lock failed at once with "database table is locked".
    # One file per pytest process; Django deletes it when the session ends.
    DATABASES["default"]["TEST"] = {
        "NAME": str(Path(tempfile.gettempdir()) / f"weft-test-{os.getpid()}.sqlite3"),
    }
