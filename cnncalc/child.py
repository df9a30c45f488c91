"""The child process of isolation.py: it reads the request on stdin, confines itself (confine.py),
runs the user's code (a Python spec, a model file) and writes the answer, as plain data, on the
channel the parent reads. Whatever the code raises, calls or breaks ends as an error record."""
from __future__ import annotations

import json
import os
import sys
import tempfile
from dataclasses import asdict, replace
from typing import Callable

from .errors import SpecError, every_error
from .isolation import DETAIL_ITEMS, plain, unplain
from .spec.limits import Limits, over


def child() -> None:
    """Read the request, confine this process, run the task, write the answer on the channel the parent
    reads, and end without running anything the user's code left behind (atexit, finalizers)."""
    request = sys.stdin.buffer.read()
    quiet = os.open(os.devnull, os.O_RDONLY)
    os.dup2(quiet, 0)
    channel = os.dup(1)
    os.dup2(2, 1)  # the user's prints: to stderr, never onto the channel
    source, what, limits = None, "the spec", Limits()
    try:
        os.set_inheritable(channel, False)
        request = json.loads(request)
        source, what = str(request["source"]), str(request["what"])
        limits = _confined(request)
        task = TASKS[request["task"]]
        reply = {"ok": plain(task(**unplain(request["arguments"]), limits=limits), limits)}
    except BaseException as error:  # noqa: BLE001 (whatever the user's code raises or calls, exit() too)
        reply = {"errors": _records(described(error, source, what, limits))}
    try:
        text = json.dumps(reply)
    except BaseException as error:  # noqa: BLE001
        text = json.dumps({"errors": _records(described(error, source, what, limits))})
    for stream in (sys.stdout, sys.stderr):  # what the code printed, for the parent to keep
        try:
            stream.flush()
        except BaseException:  # noqa: BLE001 (a stream the code replaced or closed)
            pass
    data = text.encode()
    while data:
        data = data[os.write(channel, data):]
    os._exit(0)


def _confined(request: dict) -> Limits:
    """This process confined to the request's limits: those limits, with the memory it was given."""
    from .confine import confine

    # the temporary folder as the parent found it, taken as is: Python would test it by writing a file
    # there (torch's imports ask for it), which the confined child cannot
    tempfile.tempdir = str(request["tempdir"])
    _no_compiler()
    limits = Limits(**request["limits"])
    return replace(limits, python_bytes=confine(limits.python_bytes))


def _no_compiler() -> None:
    """ctypes.util.find_library as on a machine with no C compiler: its probe compiles into a temporary file,
    which the confined child cannot write (torch's CUDA builds, timm and transformers look libraries up as they
    are imported), and finds nothing, where it had raised."""
    import ctypes.util

    probe = getattr(ctypes.util, "_findLib_gcc", None)  # Linux's; macOS and Windows look up otherwise
    if probe is None:
        return

    def found(name: str):
        try:
            return probe(name)
        except OSError:
            return None
    ctypes.util._findLib_gcc = found


def _records(error: BaseException) -> list[dict]:
    """An error of the child as the parent reads it: one record per line to show."""
    if not isinstance(error, SpecError):
        error = described(error)
    return [{"message": each.message, "line": each.line, "layer": each.layer,
             "detail": [str(item) for item in each.detail][:DETAIL_ITEMS]} for each in every_error(error)]


def described(error: BaseException, path: str | None = None, what: str = "the spec",
              limits: Limits = Limits()) -> SpecError:
    """Whatever the user's code raised, as one line (the line of `path` where it was raised, when known)."""
    import traceback
    from pathlib import Path

    if isinstance(error, SpecError):
        return error
    line = None
    if path is not None:
        frames = [(error.filename, error.lineno)] if isinstance(error, SyntaxError) else \
            [(frame.filename, frame.lineno) for frame in reversed(traceback.extract_tb(error.__traceback__))]
        target = Path(path).resolve()
        line = next((number for name, number in frames if name and Path(name).resolve() == target), None)
    if isinstance(error, SystemExit):
        from .errors import quoted

        return SpecError(f"{what} called exit({quoted(error.code)}) while cnncalc ran it", path, line)
    if isinstance(error, MemoryError):
        return SpecError(over(f"{what} needed more than {limits.python_bytes:,} bytes of memory",
                              "python_bytes"), path, line)
    try:
        text = " ".join(str(error).split())
    except BaseException:  # noqa: BLE001 (an exception of the code's own whose text fails too)
        text = ""
    return SpecError(f"{type(error).__name__}: {text[:300]}" if text else type(error).__name__, path, line)


def _task(function: Callable) -> Callable:
    TASKS[function.__name__.lstrip("_")] = function
    return function


TASKS: dict[str, Callable] = {}


@_task
def _spec(path: str, params: dict, variant: str | None, every: bool, limits: Limits) -> dict:
    """A Python spec file: with `every`, the models it defines (each variant's data or its error, else
    the file's own); else the data of one."""
    from pathlib import Path

    from .spec.python import evaluate, run_file

    namespace = run_file(Path(path), limits)
    if not every:
        return {"data": evaluate(namespace, Path(path), params, variant, limits)}
    names = namespace.get("variants") or {}
    if not isinstance(names, dict):
        raise SpecError("`variants` must map model names to arguments", path)
    models = []
    for name in list(names) or [None]:
        if name is not None and not isinstance(name, str):
            raise SpecError("`variants` must map model names (strings) to arguments", path)
        try:
            models.append({"variant": name, "data": evaluate(namespace, Path(path), params, name, limits)})
        except BaseException as error:  # noqa: BLE001 (a variant's failure is that model's verdict)
            models.append({"variant": name, "errors": _records(described(error, path, limits=limits))})
    return {"variants": [name for name in names], "models": models}


@_task
def _read(reference: str, params: dict, input_shape: list | None, input_dtype: str | None,
          others: list, limits: Limits) -> dict:
    """A `model.py:Class` read: its graph as spec data, and of each layer what a spec cannot say (the
    line that builds it, the modules it runs in, what only the run shows) where it is set."""
    from .graph import OtherInput
    from .model import UNSAID, read_in_process
    from .output.export import spec_data

    given = tuple(OtherInput(name=name, shape=tuple(shape), dtype=dtype) for name, shape, dtype in others)
    graph = read_in_process(reference, params, tuple(input_shape) if input_shape else None, input_dtype, given,
                            limits=limits)
    return {"spec": spec_data(graph), "ran_on_cpu": graph.ran_on_cpu,
            "layers": {node.name: facts for node in graph.nodes if (facts := _unsaid(node, UNSAID))}}


def _unsaid(node, fields) -> dict:
    """The `fields` set of a layer, as JSON holds them (a scope as its name and kind)."""
    facts = {key: getattr(node, key) for key in fields if getattr(node, key)}
    return facts | ({"scopes": [[scope.name, scope.kind] for scope in node.scopes]} if node.scopes else {}) \
        | ({"leaf_parameters": [vars(held) for held in node.leaf_parameters]} if node.leaf_parameters else {})


@_task
def _held(reference: str, params: dict, limits: Limits) -> dict:
    """What a `model.py:Class` built with no input holds, by module."""
    from .verify import require_torch

    require_torch()
    from .importing.held import held_by
    from .importing.libraries import load_module

    loaded = load_module(reference, params, limits=limits)
    return asdict(held_by(loaded.module, loaded.name))
