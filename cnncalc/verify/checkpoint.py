"""A model run with some of its blocks through torch.utils.checkpoint, as `--checkpoint` names them."""
from __future__ import annotations

import contextlib
import functools

from torch import nn
from torch.utils.checkpoint import checkpoint

from ..errors import SpecError
from ..figures.checkpoint import Checkpointed
from ..graph import Graph
from .build import GraphModel


def _checkpointed_call(forward, *args, **kwargs):
    return checkpoint(forward, *args, use_reentrant=False, **kwargs)


@contextlib.contextmanager
def checkpointed_model(model: nn.Module, graph: Graph, blocks: tuple[Checkpointed, ...]):
    """MODEL with BLOCKS checkpointed while the context lasts: the model built from the graph, as a
    twin running the same layers; the user's own module, with each block's submodule's forward
    wrapped in checkpoint(forward, *args, use_reentrant=False) and given back as it was."""
    if not blocks:
        yield model
        return
    if isinstance(model, GraphModel):
        yield model.checkpointed(graph, blocks)
        return
    wrapped: list[tuple[nn.Module, object]] = []
    try:
        for name in dict.fromkeys(block.name for block in blocks):
            try:
                sub = model.get_submodule(name)
            except AttributeError:
                raise SpecError(f"--checkpoint {name}: the module has no submodule of that name to checkpoint "
                                "(a function its forward() calls cannot be checkpointed apart)") from None
            wrapped.append((sub, sub.__dict__.get("forward")))
            sub.forward = functools.partial(_checkpointed_call, sub.forward)
        yield model
    finally:
        for sub, own in reversed(wrapped):
            if own is None:
                del sub.__dict__["forward"]
            else:
                sub.forward = own
