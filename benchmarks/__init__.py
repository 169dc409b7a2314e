"""Benchmarks of the hub (see benchmarks/README.md)."""
