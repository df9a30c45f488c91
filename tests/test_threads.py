"""The suite runs torch on few threads, so a loaded machine does not multiply its time: one under each
of pytest-xdist's workers (two would spin for the core the other worker holds), two in one process."""
import os

import pytest


def test_torch_uses_the_suites_thread_count():
    torch = pytest.importorskip("torch")
    expected = 1 if "PYTEST_XDIST_WORKER" in os.environ else int(os.environ["OMP_NUM_THREADS"])
    assert torch.get_num_threads() == expected == int(os.environ["OMP_NUM_THREADS"])
