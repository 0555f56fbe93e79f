"""Benchmarks. Run each as a module from the project root (`python -m bench.engine`), so that
bench/queue.py never shadows the standard library's `queue`."""
