"""oncorelay benchmarks (`make bench`); see bench/README.md. Measurements, never test assertions."""
