"""What torch reports per layer: parameters, buffers, output shape per sample, output elements of the batch."""
import pytest

torch = pytest.importorskip("torch")

from cnncalc.spec import build_graph  # noqa: E402
from cnncalc.verify.build import build_model  # noqa: E402
from cnncalc.verify.measure import Measured, measure  # noqa: E402


def test_each_layer_as_torch_reports_it():
    graph = build_graph({"input": [3, 8, 8], "layers": [{"conv2d": {"out_channels": 8, "kernel_size": 3}},
                                                        {"batchnorm2d": None}, {"relu": None}]}, "<test>", {})
    rows = measure(build_model(graph), graph, batch=2)
    # by hand: 8 filters of 3·3·3 and 8 biases; 8 scales and shifts, running mean and var and the step count
    assert rows[:2] == [
        Measured(name="0.conv2d", output_shape=(8, 6, 6), params=224, trainable_params=224, buffers=0,
                 activations=2 * 8 * 6 * 6),
        Measured(name="1.batchnorm2d", output_shape=(8, 6, 6), params=16, trainable_params=16, buffers=17,
                 activations=2 * 8 * 6 * 6)]
    assert (rows[2].params, rows[2].output_shape) == (0, (8, 6, 6))
