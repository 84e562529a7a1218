"""skface benchmarks: speed, memory and FLOPs against raw Keras, scikeras and the reference pipeline
(``benchmarks.run``), and fairness mitigations against ERM (``benchmarks.fairness``)."""
