"""Layer kinds: importing this package registers every family's calculators."""
from . import (activation, attention, conv, embedding, join, linear, norm, pool, rearrange, reduce, resize,  # noqa: F401
               parameter, recurrent, selection, slicing, uncounted)
from .registry import REGISTRY, Calc, LayerKind

__all__ = ["REGISTRY", "Calc", "LayerKind"]
