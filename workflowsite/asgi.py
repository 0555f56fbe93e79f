"""ASGI entry point: what gunicorn's uvicorn workers (production) and uvicorn (`make run`) serve: Django, and
the MCP server at /mcp (mcp_server.asgi), whose sessions live as long as the server's lifespan.

Under ASGI the database connections come from a pool (DATABASE_POOL, on here unless set to false).
uvicorn writes its own access log, not gunicorn's (whose logger redacts query strings, see
gunicorn.conf.py), so its lines get the same redaction here.
"""

import logging
import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "workflowsite.settings")
# Web processes borrow database connections from a bounded pool (settings.py, "Database" says why).
os.environ.setdefault("DATABASE_POOL", "true")

django_application = get_asgi_application()

from core.access_log import RedactingUvicornAccessFilter  # noqa: E402  (needs settings)
from mcp_server.asgi import McpRouter, mcp_application  # noqa: E402  (needs settings)

application = McpRouter(django=django_application, mcp=mcp_application())

logging.getLogger("uvicorn.access").addFilter(RedactingUvicornAccessFilter())
