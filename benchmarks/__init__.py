"""skface benchmarks: one entry point per question (``python -m benchmarks.NAME``), their
shared helpers in ``benchmarks.common``; README.md in this folder lists them."""
