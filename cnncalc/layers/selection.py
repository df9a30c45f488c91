"""What a run's data picks: topk (the k largest along a dim), sort (all of them, in order), the indices
each returns beside its values (topkindices, argsort), unique (the distinct values), indextensor
(x[i, j] with index tensors), a boolean index (x[mask], the rows a mask keeps), torchvision's nms
(the boxes non-maximum suppression keeps) and roialign (the region each box picks, pooled). A
detector's post-processing runs on them; how many rows a mask, unique or nms keeps is the run's, so
the importer states it as an argument."""
from __future__ import annotations

from .facts import AS_IS, parameter_gradients
from .facts import (NO_GRADIENT, PROMOTE, FIRST_INPUT_ONLY, NO_PRODUCTS, OWN, Call, MemoryFacts, TorchForms, calls, int64_indices,
                    never, no_bytes, whole)
from .join import broadcast_shape
from .registry import (EACH_DIM, Arg, Calc, LayerError, Shape, any_int, boolean, dim_index, format_shape,
                       non_negative, number, numel, positive, register)


# backward scatters the gradient back through the indices it keeps (derivatives.yaml: topk, sort)
_ORDERED = MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="each input",
                       extra_saved=int64_indices, transient=no_bytes, last_saved="made", workspace=parameter_gradients,
                       copies=None, estimate=None)


_TOPK_ARGS = (Arg("k", non_negative), Arg("dim", any_int, -1, names_dims=EACH_DIM), Arg("largest", boolean, True),
              Arg("sorted", boolean, True))


@register("topk", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=whole, memory=_ORDERED,
          args=_TOPK_ARGS,
          torch=TorchForms(module=OWN + "Topk", given_weight=None, inferred=None, aliases=(),
                           functions=calls("torch.topk", k=1, dim=2, largest=3, sorted=4),
                           methods=calls("topk", k=1, dim=2, largest=3, sorted=4)),
          returns=("topkindices",))
def topk(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x.topk(k, dim): the values (or their indices, the same shape) of the k largest along dim."""
    shape = shapes[0]
    axis = dim_index(args["dim"], len(shape))
    if args["k"] > shape[axis]:
        raise LayerError(f"k is {args['k']}, but dim {args['dim']} of {format_shape(shape)} has {shape[axis]}")
    return Calc(shape[:axis] + (args["k"],) + shape[axis + 1:])


_SORT_ARGS = (Arg("dim", any_int, -1, names_dims=EACH_DIM), Arg("descending", boolean, False))


# x.sort(dim): every entry, reordered along dim (the values, or where each came from); comparisons,
# which FlopCounterMode does not count (SSD's and RetinaNet's batched_nms, kept indices by score)
@register("sort", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=whole, memory=_ORDERED,
          args=_SORT_ARGS,
          torch=TorchForms(module=OWN + "Sort", given_weight=None, inferred=None, aliases=(),
                           functions=calls("torch.sort", dim=1, descending=2),
                           methods=calls("sort", dim=1, descending=2)),
          returns=("argsort",))
def sort(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x.sort(dim, descending): the shape of x."""
    shape = shapes[0]
    dim_index(args["dim"], len(shape))
    return Calc(shape)


# the indices topk and sort return beside the values (values, indices = x.topk(k); x.argsort(dim)):
# where each value came from, int64 positions, which take no gradient; comparisons, which
# FlopCounterMode does not count
register("topkindices", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=whole,
         memory=NO_GRADIENT, makes="int64", args=_TOPK_ARGS,
         torch=TorchForms(module=OWN + "TopkIndices", given_weight=None, inferred=None, aliases=(), functions=(),
                          methods=()))(topk)
register("argsort", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=whole,
         memory=NO_GRADIENT, makes="int64", args=_SORT_ARGS,
         torch=TorchForms(module=OWN + "Argsort", given_weight=None, inferred=None, aliases=(),
                          functions=calls("torch.argsort", dim=1, descending=2),
                          methods=calls("argsort", dim=1, descending=2)))(sort)


# x[mask]: the rows of x whose entry in the 1-d mask is true; backward puts the gradient back in
# place through the mask (derivatives.yaml: index.Tensor keeps its indices)
@register("booleanmask", autocast=PROMOTE, family="shape", field_probe=AS_IS, arity=2, backward=FIRST_INPUT_ONLY, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="first input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                             workspace=parameter_gradients, copies=None, estimate=None),
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


# torch.where(mask), one argument: per dim of the mask, the positions of its true entries (as
# mask.nonzero(as_tuple=True)); how many only the data says. Positions take no gradient
@register("nonzero", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=whole,
          memory=NO_GRADIENT, makes="int64",
          args=(Arg("count", non_negative),),
          torch=TorchForms(module=OWN + "Nonzero", given_weight=None, inferred=None, aliases=(), methods=(),
                           functions=(Call("torch.where", fixed=(("input", 1, (None,)),)),)))
def nonzero(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """torch.where(mask)[i]: the `count` positions along dim i of the mask's true entries."""
    (mask,) = shapes
    if args["count"] > numel(mask):
        raise LayerError(f"a mask of {format_shape(mask)} has at most {numel(mask)} true entries, not {args['count']}")
    return Calc((args["count"],))


# torch.unique(x): the distinct values of x, sorted, flattened; how many only the data says. Its work
# is comparisons, which FlopCounterMode does not count, and torch gives it no gradient (derivatives.yaml:
# _unique2 not implemented). RetinaNet's batched_nms runs once per class its boxes hold
_DISTINCT = (("return_inverse", 2, (False,)), ("return_counts", 3, (False,)), ("dim", 4, (None,)))


@register("unique", autocast=PROMOTE, family="shape", field_probe=AS_IS, backward=NO_PRODUCTS, receptive_field=whole,
          memory=NO_GRADIENT,
          args=(Arg("count", non_negative),),
          torch=TorchForms(module=OWN + "Unique", given_weight=None, inferred=None, aliases=(),
                           functions=(Call("torch.unique", fixed=_DISTINCT),),
                           methods=(Call("unique", fixed=_DISTINCT),)))
def unique(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """`count` distinct values of x, however many dims it has."""
    (shape,) = shapes
    if args["count"] > numel(shape) or args["count"] == 0 < numel(shape):
        raise LayerError(f"{format_shape(shape)} holds from 1 to {numel(shape)} distinct values, not {args['count']}")
    return Calc((args["count"],))


# x[i, j, …] with tensors i, j, …: torch's advanced indexing of the leading dims, the indices broadcast
# together (Mask R-CNN's mask_prob[torch.arange(N), labels], each box's mask of its own class). Backward
# puts the gradient back in place, keeping the indices (derivatives.yaml: index.Tensor)
@register("indextensor", autocast=PROMOTE, family="shape", field_probe=AS_IS, arity=None, fewest_inputs=2,
          backward=FIRST_INPUT_ONLY, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="nothing", gradient="first input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="none",
                             workspace=parameter_gradients, copies=None, estimate=None),
          torch=TorchForms(module=OWN + "IndexTensor", given_weight=None, inferred=None, aliases=(), functions=(),
                           methods=()))
def index_tensor(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """x and k index tensors: their broadcast shape, then the dims of x after the first k."""
    shape, *indices = shapes
    if len(indices) > len(shape):
        raise LayerError(f"{len(indices)} indices for the {len(shape)} dims of {format_shape(shape)}")
    rank = max(map(len, indices))
    return Calc(broadcast_shape(tuple((1,) * (rank - len(i)) + i for i in indices)) + shape[len(indices):])


# torchvision.ops.nms(boxes, scores, iou_threshold): the indices of the boxes kept, best first, none
# overlapping a better one by more than the threshold; how many only the data says. Its work is
# comparisons, which FlopCounterMode does not count, and indices take no gradient
@register("nms", autocast=PROMOTE, family="shape", field_probe=AS_IS, arity=2, backward=NO_PRODUCTS, receptive_field=whole,
          memory=NO_GRADIENT, makes="int64",
          args=(Arg("count", non_negative), Arg("iou_threshold", number, 0.5)),
          torch=TorchForms(module=OWN + "Nms", given_weight=None, inferred=None, aliases=(), methods=(),
                           functions=(Call("torch.ops.torchvision.nms", (("iou_threshold", 2),)),)))
def nms(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """`count` indices of the N×4 boxes (x1, y1, x2, y2), scored by the N scores."""
    boxes, scores = shapes
    if len(boxes) != 2 or boxes[1] != 4 or scores != boxes[:1]:
        raise LayerError(f"nms takes N×4 boxes and N scores, got {format_shape(boxes)} and {format_shape(scores)}")
    if args["count"] > boxes[0]:
        raise LayerError(f"nms keeps at most the {boxes[0]} boxes there are, not {args['count']}")
    return Calc((args["count"],))


# torchvision.ops.roi_align(input, rois, output_size, spatial_scale, sampling_ratio, aligned), as the op
# torch runs takes it: each row of rois (image index, x1, y1, x2, y2) a region of the feature map,
# bilinearly sampled to pooled_height × pooled_width; FlopCounterMode counts none of it. Backward
# scatters each sample back into the feature map, the boxes take none
@register("roialign", autocast=PROMOTE, family="pool", field_probe=AS_IS, arity=2, backward=FIRST_INPUT_ONLY, receptive_field=whole,
          memory=MemoryFacts(aliases=never, aliases_in_training=never, saved="inputs", gradient="first input",
                             extra_saved=no_bytes, transient=no_bytes, last_saved="read",
                             workspace=parameter_gradients, copies=None, estimate=None),
          args=(Arg("pooled_height", positive), Arg("pooled_width", positive), Arg("spatial_scale", number, 1.0),
                Arg("sampling_ratio", any_int, -1), Arg("aligned", boolean, False)),
          torch=TorchForms(module=OWN + "RoIAlign", given_weight=None, inferred=None, aliases=(), methods=(),
                           functions=(Call("torch.ops.torchvision.roi_align", (
                               ("spatial_scale", 2), ("pooled_height", 3), ("pooled_width", 4), ("sampling_ratio", 5),
                               ("aligned", 6))),)))
def roi_align(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """A C×H×W feature map and K×5 rows of rois: K × C × pooled_height × pooled_width."""
    features, rois = shapes
    if len(features) != 3 or len(rois) != 2 or rois[1] != 5:
        raise LayerError(f"roi_align takes a C×H×W feature map and K×5 rois, got {format_shape(features)} and "
                         f"{format_shape(rois)}")
    return Calc((rois[0], features[0], args["pooled_height"], args["pooled_width"]))
