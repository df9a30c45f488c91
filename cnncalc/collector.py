"""Python's cycle collector held off while a model is read and figured."""
from __future__ import annotations

import gc
from contextlib import contextmanager


@contextmanager
def collected_after():
    """No cycle collection inside the block, what it left collected as usual after. Reading a model
    makes and drops hundreds of thousands of small objects, and each full collection they would set
    off walks every object the process holds (a third of a million beside torch and torchvision):
    a tenth of swin_t's read."""
    if not gc.isenabled():  # the caller's choice, or a block around this one
        yield
        return
    gc.disable()
    try:
        yield
    finally:
        gc.enable()
