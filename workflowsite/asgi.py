"""ASGI entry point: what gunicorn's uvicorn workers (production) and uvicorn (`make run`) serve.

uvicorn writes its own access log, not gunicorn's (whose logger redacts query strings, see
gunicorn.conf.py), so its lines get the same redaction here.
"""

import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.settings")

application = get_asgi_application()

from workflowsite.access_log import RedactingUvicornAccessFilter  # noqa: E402  (needs settings)

logging.getLogger("uvicorn.access").addFilter(RedactingUvicornAccessFilter())
