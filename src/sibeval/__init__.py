"""sibeval: evaluation pipeline for outcome-based employment programmes."""

__version__ = "0.1.0"
