"""Benchmarks of nslab: `python -m bench` (or `make bench`). See bench/harness.py."""
