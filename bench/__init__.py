"""Benchmarks. Run each as a module from the project root (`python -m bench.engine`), so that
bench/queue.py never shadows the standard library's `queue`."""

# The Fernet key of every benchmark's production-settings processes (they store no real secret).
ENCRYPTION_KEY = "d2VmdC1iZW5jaC1rZXktMDAwMDAwMDAwMDAwMDAwMDA="
