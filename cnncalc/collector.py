"""Python's cycle collector held off while a model is read and figured."""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collected_after():
    """No cycle collection inside the block, what it left collected as usual after. Mapping a model's
    run and working out its figures makes and drops hundreds of thousands of small objects, and each
    full collection they would set off walks every object the process holds (a third of a million
    beside torch and torchvision). Not around the model's own run: when its tensors die is Python's,
    the collector's part included."""
    if not gc.isenabled():  # the caller's choice, or a block around this one
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
