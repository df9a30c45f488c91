"""Layer kinds: importing this package registers every family's calculators."""
from . import (activation, attention, conv, join, linear, norm, pool, rearrange, reduce, resize,  # noqa: F401  (registration)
               parameter, recurrent, slicing, uncounted)
from .registry import REGISTRY, Calc, LayerKind

__all__ = ["REGISTRY", "Calc", "LayerKind"]
