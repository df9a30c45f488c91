"""Spec → Graph: reading YAML and Python specs, expanding blocks, the zoo of shipped specs."""
from .load import build_graph, load_spec

__all__ = ["build_graph", "load_spec"]
