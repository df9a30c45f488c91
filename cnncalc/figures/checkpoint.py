"""Activation checkpointing: the blocks `--checkpoint NAME,...` names, as torch.utils.checkpoint runs them.

`checkpoint(block, x, use_reentrant=False)` runs the block with autograd's saved tensors replaced by
placeholders: nothing the block's layers save is kept, only its inputs (held by the checkpoint until
the block's backward is done). In backward, the first layer of the block that needs a saved tensor
(the last, in forward order, that saved one) runs the block's forward again from those inputs,
keeping what its layers save, and stops as soon as the last of them is saved (early stop, torch's
default): the layer saving it runs only where it saves what it computes (its output, a mask,
indices, a norm's statistics), not where it saves what it reads (a conv's input and weight).
The memory walk (memory.py) and the work (report.py) ask this module which layers a block is.
"""
from __future__ import annotations

import fnmatch
from dataclasses import dataclass

from ..errors import SpecError, did_you_mean
from ..graph import Graph
from ..layers import REGISTRY

# torch.get_rng_state(): checkpoint keeps the CPU generator's state from each checkpointed call's
# forward to its recomputation (preserve_rng_state, torch's default), and the recomputation forks the
# generator, holding another while it runs. Host memory: on a GPU no device memory.
RNG_STATE_BYTES = 5056


@dataclass(frozen=True)
class Checkpointed:
    """One checkpointed call: the block or layer named, and the graph's nodes it runs, start … stop - 1."""
    name: str
    start: int
    stop: int


def named_runs(graph: Graph) -> dict[str, list[tuple[int, int]]]:
    """Every name `--checkpoint` may give → the node ranges it runs: a layer's own (one node), or each
    call of a block or group (the scopes `--depth` collapses), a maximal run of nodes in it."""
    runs: dict[str, list[tuple[int, int]]] = {}
    open_runs: dict[str, int] = {}
    for index, node in enumerate(graph.nodes):
        runs.setdefault(node.name, []).append((index, index + 1))
        names = [scope.name for scope in node.scopes]
        for name in [name for name in open_runs if name not in names]:
            runs.setdefault(name, []).append((open_runs.pop(name), index))
        for name in names:
            open_runs.setdefault(name, index)
    for name, start in open_runs.items():
        runs.setdefault(name, []).append((start, len(graph.nodes)))
    return runs


def checkpointed(graph: Graph, names: tuple[str, ...] | list[str] | None) -> tuple[Checkpointed, ...]:
    """The calls checkpointed where NAMES (layer or block names, or globs: `layer*`) are: each matching
    block's or layer's, less those inside another (checkpointing `layer1` checkpoints its blocks
    with it). An unknown name is an error naming the closest."""
    if not names:
        return ()
    runs = named_runs(graph)
    chosen: dict[tuple[int, int], str] = {}
    unknown = []
    for pattern in names:
        matched = [name for name in runs if fnmatch.fnmatchcase(name, pattern)]
        if not matched:
            unknown.append(pattern)
        for name in matched:
            for span in runs[name]:  # a block that is all of its parent's call goes by the parent's name
                if span not in chosen or name.count(".") < chosen[span].count("."):
                    chosen[span] = name
    if unknown:
        raise SpecError(f"--checkpoint: {graph.name} has no layer or block named '{unknown[0][:80]}'"
                        f"{did_you_mean(unknown[0], runs)}")
    outermost = [span for span in chosen if not any(
        other != span and other[0] <= span[0] and span[1] <= other[1] for other in chosen)]
    blocks = tuple(Checkpointed(name=chosen[span], start=span[0], stop=span[1]) for span in sorted(outermost))
    for block in blocks:
        _refuse_overwritten_input(graph, block)
    return blocks


def _refuse_overwritten_input(graph: Graph, block: Checkpointed) -> None:
    """Checkpoint keeps the call's inputs to run it again; a layer of the call that overwrites one in
    place (an in-place ReLU first in the block) makes torch's backward fail ("modified by an inplace
    operation"): refused here, naming the layer."""
    inputs = set(block_inputs(graph, block))
    for node in graph.nodes[block.start:block.stop]:
        if node.args.get("inplace") and node.inputs and node.inputs[0] in inputs:
            raise SpecError(f"--checkpoint {block.name}: its layer '{node.name}' overwrites the block's input in "
                            "place, which checkpoint keeps to run the block again: torch's backward fails on it "
                            "(make that layer not in place, or checkpoint a block that starts after it)")


def parse_names(text: str | list[str] | tuple[str, ...] | None) -> tuple[str, ...]:
    """`layer1,layer2` or a list of names (each may hold commas) → the names, blanks dropped."""
    if text is None:
        return ()
    items = [text] if isinstance(text, str) else list(text)
    for item in items:
        if not isinstance(item, str):
            raise SpecError(f"checkpoint takes layer or block names, got {item!r:.60}")
    return tuple(part.strip() for item in items for part in item.split(",") if part.strip())


def block_inputs(graph: Graph, block: Checkpointed) -> tuple[str, ...]:
    """The tensors the block's layers read that come from before it (the model's inputs among them):
    the arguments checkpoint is called with, which it keeps."""
    inside = {node.name for node in graph.nodes[block.start:block.stop]}
    seen: dict[str, None] = {}
    for node in graph.nodes[block.start:block.stop]:
        for name in node.inputs:
            if name not in inside:
                seen.setdefault(name)
    return tuple(seen)


def block_outputs(graph: Graph, block: Checkpointed) -> tuple[str, ...]:
    """The tensors made in the block that layers after it read, or that the model returns."""
    inside = [node.name for node in graph.nodes[block.start:block.stop]]
    read = {name for node in graph.nodes[block.stop:] for name in node.inputs} | set(graph.returned)
    return tuple(name for name in inside if name in read)


def recorded(graph: Graph, rows: dict) -> dict[str, bool]:
    """Tensor → whether autograd tracks it: a trainable parameter is upstream. Layers that read only
    untracked tensors and have no parameters of their own are not recorded at all: they save
    nothing and get no gradient (the first layers on the input of a frozen stem, a mul of inputs)."""
    requires = dict.fromkeys(graph.input_names, False)
    for node in graph.nodes:
        requires[node.name] = rows[node.name].trainable_params > 0 or any(requires[i] for i in node.inputs)
    return requires


def saves(node, tracked: bool) -> bool:
    """Whether the layer's autograd node saves anything (tensors, its weights, a mask or indices):
    what checkpoint replaces with placeholders, and counts to know when its recomputation may stop."""
    return tracked and REGISTRY[node.kind].memory.last_saved_by(node.args) != "none"


@dataclass(frozen=True)
class Recompute:
    """What backward runs again of one checkpointed call: its layers start … last (the last that
    saves something; none when none does), `last` itself only where it saves what it computes."""
    block: Checkpointed
    last: int | None
    runs_last: bool

    @property
    def stop(self) -> int:
        """One past the last layer whose kernel runs again."""
        if self.last is None:
            return self.block.start
        return self.last + 1 if self.runs_last else self.last


def recompute_plan(graph: Graph, rows: dict, blocks: tuple[Checkpointed, ...]) -> tuple[Recompute, ...]:
    """Per checkpointed call, which of its layers run again in backward."""
    tracked = recorded(graph, rows)
    plan = []
    for block in blocks:
        savers = [index for index in range(block.start, block.stop)
                  if saves(graph.nodes[index], tracked[graph.nodes[index].name])]
        last = savers[-1] if savers else None
        runs = last is not None and REGISTRY[graph.nodes[last].kind].memory.last_saved_by(graph.nodes[last].args) == "made"
        plan.append(Recompute(block=block, last=last, runs_last=runs))
    return tuple(plan)
