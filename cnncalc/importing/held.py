"""A module's parameters and buffers by module path, without running it (figures/held.py)."""
from __future__ import annotations

from torch import nn

from ..figures.held import Held, HeldRow


def held_by(module: nn.Module, name: str) -> Held:
    """The model's own tensors (a position embedding), then every module, in the order torch lists them
    (as torchinfo does); a tensor shared by two modules counts in each row, once in the totals."""
    rows = [_own(name, tensor) for named in (module.named_parameters(recurse=False),
                                             module.named_buffers(recurse=False)) for name, tensor in named]
    for path, part in module.named_modules(remove_duplicate=True):
        params, buffers = list(part.parameters()), list(part.buffers())
        if not path:
            continue
        rows.append(HeldRow(name=path, module=type(part).__name__, depth=path.count(".") + 1,
                            params=sum(p.numel() for p in params),
                            trainable_params=sum(p.numel() for p in params if p.requires_grad),
                            buffers=sum(b.numel() for b in buffers)))
    params, buffers = list(module.parameters()), list(module.buffers())
    return Held(model=name, rows=tuple(rows), params=sum(p.numel() for p in params),
                    trainable_params=sum(p.numel() for p in params if p.requires_grad),
                    buffers=sum(b.numel() for b in buffers),
                    param_bytes=sum(t.numel() * t.element_size() for t in params + buffers))


def _own(name: str, tensor) -> HeldRow:
    """A tensor the model holds itself, outside any module."""
    param = isinstance(tensor, nn.Parameter)
    return HeldRow(name=name, module="Parameter" if param else "buffer", depth=1, params=tensor.numel() * param,
                   trainable_params=tensor.numel() * (param and tensor.requires_grad),
                   buffers=0 if param else tensor.numel())
