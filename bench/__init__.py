"""Benchmarks of the node against a bare proxy: `python -m bench` writes bench/RESULTS.md."""
