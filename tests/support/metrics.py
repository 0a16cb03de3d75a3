"""Read the platform's metrics as a scrape would: through prometheus-client's public registry API."""

from __future__ import annotations

from prometheus_client import REGISTRY


def sample(name: str, **labels: str) -> float:
    """The current value of sample ``name`` with ``labels``; 0.0 before the series exists."""
    value = REGISTRY.get_sample_value(name, labels)
    return 0.0 if value is None else value
