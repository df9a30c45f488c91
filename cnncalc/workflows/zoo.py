"""`cnncalc list`: the zoo's models side by side, with their input, parameters and MACs."""
from __future__ import annotations

from dataclasses import dataclass

from ..figures.report import analyze
from ..spec.limits import Limits
from ..spec.load import load_spec
from ..spec.zoo import zoo_index


@dataclass(frozen=True)
class ZooModel:
    model: str
    input: tuple[int, ...]
    params: int
    macs: int
    spec: str  # the spec file's name


def zoo_models(*, limits: Limits = Limits()) -> list[ZooModel]:
    """Every model of the zoo, its specs read within `limits`."""
    models = []
    for name, (path, variant) in zoo_index(limits=limits).items():
        report = analyze(load_spec(path, variant=variant, limits=limits))
        models.append(ZooModel(model=name, input=report.input_shape, params=report.totals.params,
                               macs=report.totals.macs, spec=path.name))
    return models
