"""gunicorn settings read from the working directory (the Dockerfile's /app, or the project folder).

The access log redacts query-string values (see workflowsite/access_log.py): a token sent as `?token=`
is refused by the API but would otherwise be written to the log.
"""

logger_class = "workflowsite.access_log.RedactingAccessLogger"
