"""gunicorn settings read from the working directory (the Dockerfile's /app, or the project folder).

The access log redacts query-string values (see core/access_log.py): a token sent as `?token=`
is refused by the API but would otherwise be written to the log.

No address may rewrite the client address from X-Forwarded-For: gunicorn trusts the header from 127.0.0.1
by default, and uvicorn's worker hands that list to its proxy-headers middleware, which then replaces
REMOTE_ADDR with whatever a local client claims. Weft reads X-Forwarded-For itself, only as far as
TRUSTED_PROXY_COUNT says (docs/security.md), and X-Forwarded-Proto through SECURE_PROXY_SSL_HEADER.
"""

logger_class = "core.access_log.RedactingAccessLogger"
forwarded_allow_ips = ""
