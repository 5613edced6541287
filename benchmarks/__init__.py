"""Benchmarks of learnable against the tools people use now (see README.md here)."""
