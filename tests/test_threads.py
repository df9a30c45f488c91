"""The suite runs torch on few threads, so a loaded machine does not multiply its time."""
import os

import pytest


def test_torch_uses_the_suites_thread_count():
    torch = pytest.importorskip("torch")
    assert torch.get_num_threads() == int(os.environ["OMP_NUM_THREADS"])
