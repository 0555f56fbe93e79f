"""The shared kernel every app builds on: the API's error shape and exception mapping, pagination, parsers
and renderers, the owner caches, read-replica routing, request ids and log redaction. It imports no app
(tests/test_app_dependencies.py holds it to that), so any app may import it."""
