"""What a run's data picks: topk (the k largest along a dim) and a boolean index (x[mask], the rows a
mask keeps). A detector's post-processing runs on them; how many rows a mask keeps is the run's, so
the importer states it as an argument."""
from __future__ import annotations

from .facts import (FIRST_INPUT_ONLY, NO_PRODUCTS, OWN, MemoryFacts, TorchForms, calls, int64_indices, never,
                    no_bytes, whole)
from .registry import (EACH_DIM, Arg, Calc, LayerError, Shape, any_int, boolean, dim_index, format_shape,
                       non_negative, positive, register)


# backward scatters the gradient back through the indices it keeps (derivatives.yaml: topk)
@register("topk", family="shape", backward=NO_PRODUCTS, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="each input",
                             extra_saved=int64_indices, transient=0, last_saved="made"),
          args=(Arg("k", non_negative), Arg("dim", any_int, -1, names_dims=EACH_DIM), Arg("largest", boolean, True),
                Arg("sorted", boolean, True)),
          torch=TorchForms(module=OWN + "Topk", given_weight=None, inferred=None, aliases=(),
                           functions=calls("torch.topk", k=1, dim=2, largest=3, sorted=4),
                           methods=calls("topk", k=1, dim=2, largest=3, sorted=4)))
def topk(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x.topk(k, dim): the values (or their indices, the same shape) of the k largest along dim."""
    shape = shapes[0]
    axis = dim_index(args["dim"], len(shape))
    if args["k"] > shape[axis]:
        raise LayerError(f"k is {args['k']}, but dim {args['dim']} of {format_shape(shape)} has {shape[axis]}")
    return Calc(shape[:axis] + (args["k"],) + shape[axis + 1:])


# x[mask]: the rows of x whose entry in the 1-d mask is true; backward puts the gradient back in
# place through the mask (derivatives.yaml: index.Tensor keeps its indices)
@register("booleanmask", family="shape", arity=2, backward=FIRST_INPUT_ONLY, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="first input",
                             extra_saved=no_bytes, transient=0, last_saved="none"),
          args=(Arg("count", non_negative),),
          torch=TorchForms(module=OWN + "BooleanMask", given_weight=None, inferred=None, aliases=(), functions=(),
                           methods=()))
def boolean_mask(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x[mask] with a 1-d mask as long as x's dim 0: `count` rows (as many as the mask keeps, which
    only the data says)."""
    shape, mask = shapes
    if len(mask) != 1 or mask[0] != shape[0]:
        raise LayerError(f"the mask is 1-d and as long as dim 0 of {format_shape(shape)}, got {format_shape(mask)}")
    if args["count"] > shape[0]:
        raise LayerError(f"a mask keeps at most the {shape[0]} rows there are, not {args['count']}")
    return Calc((args["count"],) + shape[1:])
