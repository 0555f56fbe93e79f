"""WSGI entry point for gunicorn."""

import os

from django.core.wsgi import get_wsgi_application

from core.tracing import tracing_setup

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.settings")
# Before the application loads its middleware: the Django instrumentation adds its own (core/tracing.py).
tracing_setup()

application = get_wsgi_application()
