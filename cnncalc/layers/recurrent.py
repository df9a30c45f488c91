"""Recurrent layers: nn.LSTM, nn.GRU and nn.RNN, batch first (per-sample shapes are sequence ×
features). Each step of each layer and direction multiplies the input and the previous hidden state
by the gates' weights: MACs are sequence × directions × Σ gates·hidden·(inputs + hidden), as
FlopCounterMode counts their matrix products. finalstate: the final states they return beside their
output (h_n, and an LSTM's c_n). rnncell, grucell and lstmcell: one step of them, nn.RNNCell, nn.GRUCell and
nn.LSTMCell, as a model's own loop over the sequence calls them; cellstate: the c an LSTM cell returns
beside h."""
from __future__ import annotations

from dataclasses import dataclass, replace

from .facts import (AS_IS, NN, OWN, RETURNED_BESIDE, Alias, FromInput, MemoryFacts, Parameters, TorchForms, Workspace,
                    never, no_bytes, own_module, whole)
from .facts import LOWER, NO_PRODUCTS, NO_WORK, PROMOTE, Autocast, BackwardFacts, BackwardWork, Gradients
from .registry import (BATCH_FIRST, Arg, Calc, LayerError, Shape, boolean, choice, format_shape, non_negative, positive,
                       probability, register)


@dataclass(frozen=True, kw_only=True)
class Cell:
    """What one step of ATen's CPU cell holds, per sample and direction, in units of the hidden size:
    `saved`, what autograd keeps of each step (an LSTM's four gates, previous cell state, tanh of the
    cell state and output; a GRU's gates, its in-place products' originals and output; an RNN's
    output); `states`, the states it carries (h, and an LSTM's c); `first_saved`, whether the first
    step's product saves the initial state beside them."""
    gates: int
    saved: int
    states: int
    first_saved: bool


# Why every recurrent kind's memory is an estimate: its workspace is fitted to what torch 2.13 holds on
# the CPU (docs/memory.md), where the other kinds follow torch's kernels on any device.
ESTIMATE = "fitted to the CPU's float32 kernels (within 10%); cuDNN and autocast hold other workspaces"


PAGE = 4096  # oneDNN places each part of its workspace at a page


def onednn_workspace(width: int, hidden: int, length: int, batch: int) -> int:
    """The bytes of the workspace oneDNN's float32 LSTM keeps for backward, one layer and direction (its
    rnn_utils: set_workspace_sizes and set_offsets): the gates, the projected states, the states, the cell
    states, and the states' and cell states' gradients, each padded to a page; a row's leading dimension a
    multiple of 16, never of 256 (get_good_ld), but the cell states'."""
    def good(size: int) -> int:
        lead = -(-size // 16) * 16
        return lead + 16 if lead % 256 == 0 else lead

    states = 2 * (length + 1) * batch  # rows of a layer below and this one, each step and the initial state
    parts = (length * batch * good(4 * hidden), length * batch * good(hidden), states * good(max(width, hidden)),
             states * hidden, states * good(max(width, hidden)), states * good(max(width, hidden)), states * hidden)
    return sum(-(-4 * part // PAGE) * PAGE for part in parts)


def _steps(cell: Cell, fused: bool) -> MemoryFacts:
    """Besides its output, a recurrent layer holds per layer and direction each step's gates and
    states (ATen's cell, or oneDNN's workspace where `fused`: an LSTM without projections in
    float32), which its workspace rule reads off the input shape; the first layer saves its input."""
    def workspace(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                  parameters: Parameters) -> Workspace:
        (length, inputs), *_ = shapes  # then the initial states, if given
        hidden, projected, layers = args["hidden_size"], args.get("proj_size", 0), args["num_layers"]
        state, directions = projected or hidden, 2 if args["bidirectional"] else 1
        steps, row = batch * length, batch * hidden  # elements of one feature over the sequence, one step
        later = (layers - 1) * directions * steps * state  # the later layers' inputs, the outputs below
        # backward of a stacked bidirectional layer holds its input's gradient beside the layer above's
        backward = (layers > 1) * (directions - 1) * directions * steps * state
        trained = parameters.trainable > 0
        # each layer's input features: the input's, then the states of the layer below (in closed form:
        # num_layers may be any size)
        widths = {inputs: 1}
        if layers > 1:
            widths[directions * state] = widths.get(directions * state, 0) + layers - 1
        # its parameters are tensors per layer and direction: weight_ih, the largest
        largest = cell.gates * hidden * max(*widths, state) if trained else 0
        if fused and not projected and element_size == 4:
            # per layer and direction, mkldnn_rnn_layer saves oneDNN's workspace, its output and its four
            # states (those given and those made); each direction's output is saved apart from the two's
            # concatenation, which the layer above saves as its input; its backward makes one layer's
            # weight gradients at once
            apart = (directions - 1) * (2 * layers - 1) * directions * steps * hidden if directions > 1 else later
            saved = apart + sum(count * directions * (onednn_workspace(width, hidden, length, batch) // 4 + 4 * row)
                                for width, count in widths.items())
            layer = max(cell.gates * hidden * (width + state) + 2 * cell.gates * hidden for width in widths)
            inference = (steps * inputs + (directions - 1) * directions * steps * hidden + 6 * directions * row
                         + (layers > 1) * (directions * steps * state + 2 * directions * row * (2 * layers - 3)))
            return Workspace(saved=saved, running=0, inference=inference,
                             gradients=trained * layer + backward, largest_parameter=largest)
        # ATen's general path: per layer the input's projections for the whole sequence (batch first,
        # the first layer's input is transposed and copied for them), then the cell step by step
        per_step = cell.saved * hidden + projected
        saved = (layers * directions * (steps * per_step + cell.first_saved * row)
                 + directions * steps * inputs + later)
        running = steps * hidden * (cell.gates + 2 * (directions - 1)) + cell.states * directions * layers * row
        inference = (steps * (cell.gates * hidden + state if directions == 1 else (cell.gates + 4) * hidden)
                     + (2 * cell.states - 1) * directions * row
                     + (layers > 1) * (directions * steps * state + 2 * cell.states * directions * row * (layers - 1)))
        # each step's weight gradients, a few at once before AccumulateGrad adds them
        gradients = 3 * cell.gates * hidden * state * trained
        return Workspace(saved=saved, running=running, inference=inference, gradients=gradients + backward,
                         largest_parameter=largest)
    return MemoryFacts(aliases=never, aliases_in_training=never, saved="input", gradient="each input",
                       extra_saved=no_bytes, transient=no_bytes, last_saved="made", workspace=workspace,
                       copies=None, estimate=ESTIMATE)


_ARGS = (Arg("hidden_size", positive), Arg("num_layers", positive, 1), Arg("bias", boolean, True),
         Arg("batch_first", boolean, False, names_dims=BATCH_FIRST), Arg("dropout", probability, 0.0), Arg("bidirectional", boolean, False))


def _forms(name: str) -> TorchForms:
    return TorchForms(module=OWN + name, given_weight=None,
                      inferred=FromInput("input_size", -1), functions=(), methods=(),
                      aliases=(Alias(NN + name),))


def _state_size(args: dict) -> tuple[int, int]:
    """A recurrent layer's state fed back (the projection's size, if any) and its directions."""
    hidden, projected = args["hidden_size"], args.get("proj_size", 0)
    if projected >= hidden:
        raise LayerError(f"proj_size {projected} must be smaller than hidden_size {hidden}")
    return projected or hidden, 2 if args["bidirectional"] else 1


def recurrent(gates: int, cell_states: int):
    """The calculator of a recurrent kind of `gates` gates, carrying `cell_states` states (an LSTM's h and c)."""
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        """Per layer and direction: weight_ih (gates·hidden × inputs), weight_hh (gates·hidden × the
        state fed back: the projection's size, if any), biases b_ih and b_hh, and weight_hr. Its inputs:
        the sequence, then, where given, its initial states (h_0, and an LSTM's c_0), each per sample a row
        per layer and direction; torch multiplies the zeros it starts from otherwise just the same."""
        if not args["batch_first"]:
            raise LayerError("cnncalc's shapes are per sample, so the batch must come first: set batch_first: true")
        shape, *given = shapes
        if len(shape) != 2:
            raise LayerError(f"expects sequence × features per sample, got {format_shape(shape)}")
        length, inputs = shape
        hidden, projected = args["hidden_size"], args.get("proj_size", 0)
        state, directions = _state_size(args)
        states = tuple((args["num_layers"] * directions, size) for size in (state, hidden)[:cell_states])
        if len(given) > cell_states:
            raise LayerError(f"takes a batch-first sequence, then at most its {cell_states} initial state(s), got "
                             f"{len(shapes)} tensors")
        if given and tuple(given) != states:
            raise LayerError(f"takes its initial states as {' and '.join(map(format_shape, states))} per sample "
                             f"(a row per layer and direction), got {', '.join(map(format_shape, given))}")
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
    later layer's always does); the state's at every step but the first, unless a given h_0 requires
    grad; and the projection's input."""
    def backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
        (fed, *states_fed), trained = gradients.inputs, gradients.parameters
        if not (fed or trained or any(states_fed)):
            return NO_WORK
        (length, inputs), *_ = shapes
        hidden, projected = args["hidden_size"], args.get("proj_size", 0)
        state, directions = projected or hidden, 2 if args["bidirectional"] else 1
        # in closed form over the layers (num_layers may be huge): the first reads the input, the
        # others the layer below, both directions of it
        layers, first, later = args["num_layers"], length * gates * hidden * inputs, \
            length * gates * hidden * directions * state
        fed_back, projection = length * gates * hidden * state, length * hidden * projected
        reads = (layers - 1) * later
        first_state = 0 if states_fed and states_fed[0] else gates * hidden * state  # h_0's gradient, where it takes one
        passed = directions * ((first if fed else 0) + reads + layers * (fed_back - first_state + projection))
        weighted = directions * (first + reads + layers * (fed_back + projection))
        return BackwardWork(inputs=passed, parameters=weighted if trained else 0)
    return BackwardFacts(differentiates="each input", work=backward)


# the CPU runs LSTM and RNN through oneDNN (mkldnn_rnn_layer, on its lower list; an LSTM with
# projections through the general path's products), GRU through products autocast does not reach;
# CUDA runs each through cuDNN (_cudnn_rnn, cast by autocast)
register("lstm", family="recurrent", arity=None, fewest_inputs=1, field_probe=AS_IS, autocast=LOWER,
         receptive_field=whole,
         memory=_steps(Cell(gates=4, saved=7, states=2, first_saved=False), fused=True),
         backward=recurrent_backward(gates=4),
         torch=_forms("LSTM"), args=_ARGS + (Arg("proj_size", non_negative, 0),),
         returns=("finalstate",))(recurrent(gates=4, cell_states=2))
register("gru", family="recurrent", arity=None, fewest_inputs=1, field_probe=AS_IS,
         autocast=Autocast(cuda="lower", cpu="promote"), receptive_field=whole,
         memory=_steps(Cell(gates=3, saved=7, states=1, first_saved=False), fused=False),
         backward=recurrent_backward(gates=3),
         torch=_forms("GRU"), args=_ARGS, returns=("finalstate",))(recurrent(gates=3, cell_states=1))
register("rnn", family="recurrent", arity=None, fewest_inputs=1, field_probe=AS_IS, autocast=LOWER,
         receptive_field=whole,
         memory=_steps(Cell(gates=1, saved=1, states=1, first_saved=True), fused=False),
         backward=recurrent_backward(gates=1),
         torch=_forms("RNN"), args=_ARGS + (Arg("nonlinearity", choice("tanh", "relu"), "tanh"),),
         returns=("finalstate",))(recurrent(gates=1, cell_states=1))


# h_n and an LSTM's c_n, which torch's run returns beside the output: no work of their own
@register("finalstate", family="shape", field_probe=AS_IS, autocast=PROMOTE, receptive_field=whole,
          memory=RETURNED_BESIDE, backward=NO_PRODUCTS, torch=own_module("FinalState"),
          args=(Arg("hidden_size", positive), Arg("num_layers", positive, 1), Arg("bidirectional", boolean, False),
                Arg("proj_size", non_negative, 0), Arg("state", choice("hidden", "cell"), "hidden")))
def final_state(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The final hidden state (h_n) or an LSTM's final cell state (c_n) of the lstm, gru or rnn layer it
    reads, whose output is sequence × directions·size: per sample a row per layer and direction, each
    of the state's size (the projection's, for h_n of an LSTM with proj_size). torch holds them
    layers·directions × batch × size; cnncalc's shapes put the batch first."""
    (shape,) = shapes
    state, directions = _state_size(args)
    if len(shape) != 2 or shape[1] != directions * state:
        raise LayerError(f"reads the output of the recurrent layer whose state it is, sequence × "
                         f"{directions * state} per sample, got {format_shape(shape)}")
    return Calc((args["num_layers"] * directions, args["hidden_size"] if args["state"] == "cell" else state))


def _one_step(steps: MemoryFacts, gates: int, projected: int) -> MemoryFacts:
    """A cell's memory: one step of one layer's, in one direction, of ATen's general path, which runs the same cell
    each step; but its input is saved as it is, where the layer saves a transposed copy for the whole sequence;
    in inference it holds `projected` × hidden more per sample (a GRU cell projects its input for the step,
    beside the state's projection); its backward makes its two weights' gradients once, the larger of them
    beside the rest (fitted)."""
    def workspace(args: dict, shapes: tuple[Shape, ...], batch: int, element_size: int,
                  parameters: Parameters) -> Workspace:
        hidden, (inputs,) = args["hidden_size"], shapes[0]
        layer = {**args, "num_layers": 1, "bidirectional": False, "proj_size": 0}
        held = steps.workspace(layer, ((1, inputs), *shapes[1:]), batch, element_size, parameters)
        return replace(held, saved=held.saved - batch * inputs, inference=held.inference + batch * projected * hidden,
                       gradients=gates * hidden * max(inputs, hidden) if parameters.trainable else 0)
    return replace(steps, workspace=workspace, estimate=CELL_ESTIMATE)


# why a cell's memory is an estimate: fitted as the layers' are, less closely (docs/memory.md)
CELL_ESTIMATE = "fitted to the CPU's float32 kernels (within 10%); CUDA and autocast hold other workspaces"


def cell(gates: int, states: int):
    """The calculator of one step of a recurrent kind of `gates` gates, carrying `states` states (an LSTM's h and c)."""
    def calculate(shapes: tuple[Shape, ...], args: dict) -> Calc:
        """x of `input_size` features per sample, then, where given, the states, each of `hidden_size`: weight_ih
        (gates·hidden × inputs), weight_hh (gates·hidden × hidden), biases b_ih and b_hh. Both products run,
        the state's on zeros where none is given."""
        (inputs,), *given = shapes if all(len(shape) == 1 for shape in shapes) else ((None,),)
        hidden = args["hidden_size"]
        if inputs is None or given and given != [(hidden,)] * states:
            raise LayerError(f"takes features per sample, then, if given, {'the hidden state' if states == 1 else 'h and c'}"
                             f" ({hidden} each), got {', '.join(map(format_shape, shapes))}")
        weights = gates * hidden * (inputs + hidden)
        return Calc((hidden,), weights=weights, biases=2 * gates * hidden if args["bias"] else 0, macs=weights)
    return calculate


def cell_backward(gates: int) -> BackwardFacts:
    """Its two products' backward, as FlopCounterMode counts them: the weights' gradients where they train, the
    input's where it requires grad, the state's where a given one does."""
    def backward(shapes: tuple[Shape, ...], args: dict, calc: Calc, gradients: Gradients) -> BackwardWork:
        (fed, *state_fed), trained = gradients.inputs, gradients.parameters
        (inputs,), hidden = shapes[0], args["hidden_size"]
        passed = gates * hidden * ((inputs if fed else 0) + (hidden if state_fed and state_fed[0] else 0))
        return BackwardWork(inputs=passed, parameters=calc.macs if trained else 0)
    return BackwardFacts(differentiates="each input", work=backward)


_CELL_ARGS = (Arg("hidden_size", positive), Arg("bias", boolean, True))


def _cell_forms(name: str, own: bool = False) -> TorchForms:
    """torch's module, or cnncalc's holding it (an LSTM cell's returns its c beside h), which imports map it from."""
    return TorchForms(module=(OWN if own else NN) + name, given_weight=None, inferred=FromInput("input_size", -1),
                      functions=(), methods=(), aliases=(Alias(NN + name),) if own else ())


register("grucell", family="cell", arity=None, fewest_inputs=1, field_probe=AS_IS,
         autocast=Autocast(cuda="lower", cpu="promote"), receptive_field=whole,
         memory=_one_step(_steps(Cell(gates=3, saved=7, states=1, first_saved=False), fused=False), gates=3, projected=3),
         backward=cell_backward(gates=3), torch=_cell_forms("GRUCell"), args=_CELL_ARGS)(cell(gates=3, states=1))
register("rnncell", family="cell", arity=None, fewest_inputs=1, field_probe=AS_IS, autocast=LOWER,
         receptive_field=whole,
         memory=_one_step(_steps(Cell(gates=1, saved=1, states=1, first_saved=True), fused=False), gates=1, projected=0),
         backward=cell_backward(gates=1), torch=_cell_forms("RNNCell"),
         args=_CELL_ARGS + (Arg("nonlinearity", choice("tanh", "relu"), "tanh"),))(cell(gates=1, states=1))
# its step saves a hidden's worth less than an LSTM layer's (measured: the layer keeps its previous cell state)
register("lstmcell", family="cell pair", arity=None, fewest_inputs=1, field_probe=AS_IS,
         autocast=Autocast(cuda="lower", cpu="promote"), receptive_field=whole,
         memory=_one_step(_steps(Cell(gates=4, saved=6, states=2, first_saved=False), fused=False), gates=4,
                          projected=0),
         backward=cell_backward(gates=4), torch=_cell_forms("LSTMCell", own=True),
         args=_CELL_ARGS, returns=("cellstate",))(cell(gates=4, states=2))


# c_1, which nn.LSTMCell returns beside h_1 (its layer's output), as finalstate is a recurrent layer's
@register("cellstate", family="shape", field_probe=AS_IS, autocast=PROMOTE, receptive_field=whole,
          memory=RETURNED_BESIDE, backward=NO_PRODUCTS, torch=own_module("CellState"),
          args=(Arg("hidden_size", positive),))
def cell_state(shapes: tuple[Shape, ...], args: dict) -> Calc:
    """The cell state of the lstmcell it reads, whose output is the hidden state: `hidden_size` per sample."""
    if shapes != ((args["hidden_size"],),):
        raise LayerError(f"reads the output of the lstmcell whose state it is ({args['hidden_size']}), "
                         f"got {', '.join(map(format_shape, shapes))}")
    return Calc((args["hidden_size"],))
