"""cnncalc: what a convolutional network costs, computed from its spec without running it."""
from .errors import SpecError
from .figures.report import Report, analyze
from .graph import Graph, Node
from .spec.load import load_spec
from .summary import Summary, summary

__version__ = "0.1.0"
__all__ = ["Graph", "Node", "Report", "SpecError", "Summary", "analyze", "load_spec", "summary"]
