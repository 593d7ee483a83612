"""Benchmarks of the SDK: `python -m bench` (full) or `python -m bench --quick` (CI).

See bench/README.md. Nothing heavy is imported here: every client process imports this package
first, the peer SDK's throwaway venv included.
"""
