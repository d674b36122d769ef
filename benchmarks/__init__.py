"""Benchmarks of the book, run by `make bench`; not part of `make test`."""
