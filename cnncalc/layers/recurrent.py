"""Recurrent layers: nn.LSTM, nn.GRU and nn.RNN, batch first (per-sample shapes are sequence ×
features). Each step of each layer and direction multiplies the input and the previous hidden state
by the gates' weights: MACs are sequence × directions × Σ gates·hidden·(inputs + hidden), as
FlopCounterMode counts their matrix products."""
from __future__ import annotations

from .facts import NN, OWN, Alias, FromInput, MemoryFacts, TorchForms, never, whole
from .facts import LOWER, NO_WORK, Autocast, BackwardFacts, BackwardWork, Gradients
from .registry import (Arg, Calc, LayerError, Shape, boolean, choice, format_shape, non_negative, positive,
                       probability, register)


def _steps(working: int, saved: int) -> MemoryFacts:
    """Besides its output, a recurrent layer holds each step's gates and states while it runs (the
    inputs' projections for the whole sequence come first), and autograd keeps them for backward.
    Per output element, `working` and `saved` float32 elements, as measured with torch 2.13 on the
    CPU's general path over 1 and 2 layers, 1 and 2 directions: within about 25%, not the 10% of
    other kinds (deeper stacks keep more)."""
    return MemoryFacts(aliases=never, aliases_in_training=never, saved="input", gradient="each input",
                       extra_saved=lambda args, size: saved * size, transient=4 * working, last_saved="made")


_ARGS = (Arg("hidden_size", positive), Arg("num_layers", positive, 1), Arg("bias", boolean, True),
         Arg("batch_first", boolean, False), Arg("dropout", probability, 0.0), Arg("bidirectional", boolean, False))


def _forms(name: str) -> TorchForms:
    return TorchForms(module=OWN + name, given_weight=None,
                      inferred=FromInput("input_size", -1), functions=(), methods=(),
                      aliases=(Alias(NN + name),))


def recurrent(gates: int):
    """The calculator of a recurrent kind of `gates` gates."""
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        """Per layer and direction: weight_ih (gates·hidden × inputs), weight_hh (gates·hidden × the
        state fed back: the projection's size, if any), biases b_ih and b_hh, and weight_hr."""
        if not args["batch_first"]:
            raise LayerError("cnncalc's shapes are per sample, so the batch must come first: set batch_first: true")
        (shape,) = shapes
        if len(shape) != 2:
            raise LayerError(f"expects sequence × features per sample, got {format_shape(shape)}")
        length, inputs = shape
        hidden, projected = args["hidden_size"], args.get("proj_size", 0)
        if projected >= hidden:
            raise LayerError(f"proj_size {projected} must be smaller than hidden_size {hidden}")
        state = projected or hidden
        directions = 2 if args["bidirectional"] else 1
        def per_layer(inputs: int) -> int:
            return directions * (gates * hidden * (inputs + state) + projected * hidden)
        # the first layer reads the input; each of the others, the states of the one below
        weights = per_layer(inputs) + (args["num_layers"] - 1) * per_layer(directions * state)
        biases = args["num_layers"] * directions * 2 * gates * hidden if args["bias"] else 0
        # each step multiplies by every weight once; the biases are added, which the counter leaves out
        return Calc((length, directions * state), weights=weights, biases=biases, macs=length * weights)
    return calculate


def recurrent_backward(gates: int) -> BackwardFacts:
    """The backward rule of a recurrent kind of `gates` gates, as FlopCounterMode counts the general
    path's products step by step (cuDNN's and oneDNN's fused kernels hide them from it): per layer and
    direction, every weight's gradient at every step; the input's gradient where it requires grad (a
    later layer's always does); the state's at every step but the first (h0 requires none); and the
    projection's input."""
    def backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
        (fed,), trained = gradients.inputs, gradients.parameters
        if not (fed or trained):
            return NO_WORK
        (length, inputs), = shapes
        hidden, projected = args["hidden_size"], args.get("proj_size", 0)
        state, directions = projected or hidden, 2 if args["bidirectional"] else 1
        # in closed form over the layers (num_layers may be huge): the first reads the input, the
        # others the layer below, both directions of it
        layers, first, later = args["num_layers"], length * gates * hidden * inputs, \
            length * gates * hidden * directions * state
        fed_back, projection = length * gates * hidden * state, length * hidden * projected
        reads = (layers - 1) * later
        passed = directions * ((first if fed else 0) + reads + layers * (fed_back - gates * hidden * state + projection))
        weighted = directions * (first + reads + layers * (fed_back + projection))
        return BackwardWork(inputs=passed, parameters=weighted if trained else 0)
    return BackwardFacts(differentiates="each input", work=backward)


# the CPU runs LSTM and RNN through oneDNN (mkldnn_rnn_layer, on its lower list; an LSTM with
# projections through the general path's products), GRU through products autocast does not reach;
# CUDA runs each through cuDNN (_cudnn_rnn, cast by autocast)
register("lstm", family="recurrent", autocast=LOWER, receptive_field=whole, memory=_steps(working=7, saved=10),
         backward=recurrent_backward(gates=4),
         torch=_forms("LSTM"), args=_ARGS + (Arg("proj_size", non_negative, 0),))(recurrent(gates=4))
register("gru", family="recurrent", autocast=Autocast(cuda="lower", cpu="promote"), receptive_field=whole, memory=_steps(working=5, saved=10),
         backward=recurrent_backward(gates=3),
         torch=_forms("GRU"), args=_ARGS)(recurrent(gates=3))
register("rnn", family="recurrent", autocast=LOWER, receptive_field=whole, memory=_steps(working=2, saved=2),
         backward=recurrent_backward(gates=1),
         torch=_forms("RNN"), args=_ARGS + (Arg("nonlinearity", choice("tanh", "relu"), "tanh"),))(recurrent(gates=1))
