"""chatd's load and latency benchmark: ``python -m bench run`` (see bench/README.md)."""
