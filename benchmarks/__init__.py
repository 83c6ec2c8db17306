"""Retrieval-quality benchmark scripts (not tests): they print figures and never copy data."""
