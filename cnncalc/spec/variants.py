"""A family spec's variants (vgg16 is vgg.yaml at depth 16): what a variant fixes stays fixed."""
from __future__ import annotations

from ..errors import SpecError


def refuse_fixed(variant: str, fixed: dict, overrides: dict, variants: dict, source: str) -> None:
    """A zoo name is one model: --set may not change what its variant fixes (resnet50 --set depth=18
    would print resnet18's figures under resnet50's name); the error names what to run instead."""
    for key in overrides:
        if key in fixed and overrides[key] != fixed[key]:
            wanted = {**fixed, **overrides}
            same = [name for name, values in variants.items() if values == wanted]
            instead = f"cnncalc table {same[0]}" if same else f"the family spec: cnncalc table {source} --set ..."
            raise SpecError(f"--set {key}: {variant} is {key}={fixed[key]}; for {key}={overrides[key]} run "
                            f"{instead}", source)
