"""Graph → figures: per-layer counts and totals, counting conventions, memory, receptive fields."""
from .report import Report, analyze, collapse

__all__ = ["Report", "analyze", "collapse"]
