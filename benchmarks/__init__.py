"""skface benchmarks: speed, memory and FLOPs against raw Keras, scikeras and the reference pipeline."""
