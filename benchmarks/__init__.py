"""Benchmarks: each compares lumi with a baseline in the same run and prints the ratio.

Run one with ``python -m benchmarks.<name>``, all with ``python -m benchmarks`` (``make bench``).
"""
