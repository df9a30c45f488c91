"""Running the user's Python (a Python spec, a `model.py:Class` file) in a child process, so that
nothing it does can end or change what this process reports.

The boundary: the parent sends a request (which file, which task, the limits) as JSON on the
child's stdin; the child runs the user's code, confined (confine.py: a time and memory limit, no
file written, no signal sent out of it where the kernel allows), and writes its answer as JSON on a
channel of its own (the stdout it was started with, which the user's code no longer holds: its
prints go to stderr). Only plain data crosses (numbers, strings, lists, tuples, mappings and the
lines a spec's entries were written on), never an object: the parent builds the graph itself from
that data, as it would from a YAML file, and unpickles nothing. Whatever the child does (exits,
prints, loops, fills its memory, patches cnncalc or sys, dies) ends as one error about that file.
What it printed is kept (at most OUTPUT_BYTES) as the error's detail, which `--verbose` shows
escaped, and dropped when it succeeds.
"""
from __future__ import annotations

import json
import os
import selectors
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import asdict
from functools import lru_cache
from typing import Any

from .errors import SpecError, SpecErrors
from .spec.limits import Limits, over

OUTPUT_BYTES = 16_384  # of what the child printed, kept for --verbose
DETAIL_LINES = 20  # of what it printed, shown
DETAIL_ITEMS = 1_000  # of an error's own detail (each operation an import cannot map)
DEPTH = 400  # nesting of the data that crosses, far past any spec's (the parent's JSON reader recurses)


class Unreadable(ValueError):
    """The child's answer is not what any child of cnncalc writes."""


# ---- plain data, both ways ---------------------------------------------------------------------------

def plain(value: Any, limits: Limits, depth: int = 0) -> Any:
    """Spec data as JSON: a list as an array; a tuple, a mapping (with the line it was written on) and a
    list with its items' lines as tagged objects, so no value the user wrote can read as a tag. Integers
    are held to `limits`."""
    from .spec.yamlfile import LineDict, LineList

    if value is None or isinstance(value, bool):
        return value
    if isinstance(value, int):
        if abs(value) >= _largest(limits.integer_digits):
            raise SpecError(over(f"the spec's data holds an integer of more than "
                                 f"{limits.integer_digits:,} digits", "integer_digits"))
        return int(value)
    if isinstance(value, float):
        return float(value)
    if isinstance(value, str):
        return str(value)
    if depth > DEPTH:
        raise SpecError(f"the spec's data nests more than {DEPTH} deep")
    if isinstance(value, LineList):
        return {"list": [plain(item, limits, depth + 1) for item in value],
                "lines": [line if type(line) is int else None for line in list(getattr(value, "lines", []))]}
    if isinstance(value, list):
        return [plain(item, limits, depth + 1) for item in value]
    if isinstance(value, tuple):
        return {"tuple": [plain(item, limits, depth + 1) for item in value]}
    if isinstance(value, dict):
        tagged = {"dict": [[plain(key, limits, depth + 1), plain(item, limits, depth + 1)]
                           for key, item in value.items()]}
        if isinstance(value, LineDict):
            line = getattr(value, "line", None)
            tagged["line"] = line if type(line) is int else None
        return tagged
    raise SpecError(f"the spec's data holds a {type(value).__name__}: a spec is numbers, strings, lists and "
                    "mappings")


@lru_cache(maxsize=4)
def _largest(digits: int) -> int:
    return 10 ** digits


def unplain(value: Any) -> Any:
    """The data `plain` wrote, as the spec loader reads it; Unreadable for anything else."""
    from .spec.yamlfile import LineDict, LineList

    if value is None or isinstance(value, (bool, int, float, str)):
        return value
    if isinstance(value, list):
        return [unplain(item) for item in value]
    if not isinstance(value, dict):
        raise Unreadable(type(value).__name__)
    if set(value) == {"tuple"} and isinstance(value["tuple"], list):
        return tuple(unplain(item) for item in value["tuple"])
    if set(value) == {"list", "lines"} and isinstance(value["list"], list) and isinstance(value["lines"], list):
        items = LineList(unplain(item) for item in value["list"])
        items.lines = [line if type(line) is int else None for line in value["lines"]]
        return items
    if set(value) in ({"dict"}, {"dict", "line"}) and isinstance(value["dict"], list):
        mapping = LineDict() if "line" in value else {}
        if "line" in value:
            if value["line"] is not None and type(value["line"]) is not int:
                raise Unreadable("line")
            mapping.line = value["line"]
        for pair in value["dict"]:
            if not isinstance(pair, list) or len(pair) != 2:
                raise Unreadable("pair")
            key = unplain(pair[0])
            try:
                mapping[key] = unplain(pair[1])
            except TypeError:  # a key that is a list
                raise Unreadable("key") from None
        return mapping
    raise Unreadable("tag")


# ---- the parent's side ---------------------------------------------------------------------------

_ANSWERS: dict[str, Any] = {}  # request → answer, for this process: a file runs once per question


def run_isolated(task: str, arguments: dict, source: str, what: str = "the spec", *,
                 limits: Limits = Limits()) -> Any:
    """The answer of `task` (a name in child.TASKS) run on `arguments` in a child process within
    `limits`, as plain data (`unplain`); a SpecError about `source` when the child fails, in whatever way."""
    request = json.dumps({"task": task, "arguments": plain(arguments, limits), "source": source, "what": what,
                          "limits": asdict(limits), "tempdir": tempfile.gettempdir()})
    if request not in _ANSWERS:
        _ANSWERS[request] = _ask(request, source, what, limits)
        while len(_ANSWERS) > 32:
            del _ANSWERS[next(iter(_ANSWERS))]
    answer = _ANSWERS[request]
    if isinstance(answer, SpecError):
        raise answer
    return answer


def _ask(request: str, source: str, what: str, limits: Limits) -> Any:
    most = 4 * limits.spec_bytes  # the most the child may answer: four times what a spec file may hold
    answer, output, ended = _spawn(request, limits.python_seconds, most)
    detail = _printed(output)
    if ended == "timeout":
        return SpecError(over(f"{what} ran longer than {limits.python_seconds:,} s: stopped", "python_seconds"),
                         source, detail=detail)
    if ended == "too much":
        return SpecError(over(f"{what} answered more than {most:,} bytes of data", "spec_bytes"),
                         source, detail=detail)
    try:
        reply = json.loads(answer)
    except (ValueError, RecursionError):  # none, half of one, or past what JSON reads
        return SpecError(f"{what} ended its process before cnncalc had its answer ({ended})", source,
                         detail=detail)
    try:
        if set(reply) == {"ok"}:
            return unplain(reply["ok"])
        if set(reply) == {"errors"} and reply["errors"] and isinstance(reply["errors"], list):
            errors = [error_of(each, source, detail) for each in reply["errors"][:20]]
            return errors[0] if len(errors) == 1 else SpecErrors(errors)
    except (Unreadable, KeyError, TypeError, AttributeError, RecursionError):
        pass
    return SpecError(f"{what} gave cnncalc an answer it cannot read", source, detail=detail)


def error_of(record: dict, source: str, detail: tuple[str, ...] = ()) -> SpecError:
    """One error the child reported, about `source` (whatever file it named), with `detail` after its own."""
    message, line, layer = record["message"], record.get("line"), record.get("layer")
    if not isinstance(message, str) or line is not None and type(line) is not int \
            or layer is not None and not isinstance(layer, str):
        raise Unreadable("error")
    own = tuple(str(item)[:300] for item in list(record.get("detail") or ())[:DETAIL_ITEMS])
    return SpecError(message, source, line, layer, detail=own + detail)


def _printed(output: bytes) -> tuple[str, ...]:
    """What the child printed, as the detail of its error: its last lines, cut to a line's length."""
    lines = output.decode("utf-8", "replace").splitlines()[-DETAIL_LINES:]
    return tuple(f"printed: {line[:300]}" for line in lines)


def _spawn(request: str, seconds: int, most: int) -> tuple[bytes, bytes, str]:
    """Run the child on `request`: its answer, what it printed, and how it ended ('timeout', 'too
    much', or its exit status in words)."""
    bootstrap = "import sys; sys.path[:] = eval(sys.argv[1]); from cnncalc.child import child; child()"
    # -I: neither the working folder (a checked repository's own json.py) nor the environment's
    # PYTHON* variables are read before the path is set to this process's own
    process = subprocess.Popen([sys.executable, "-I", "-B", "-c", bootstrap, repr(sys.path)],
                               stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                               start_new_session=True, close_fds=True)
    deadline = time.monotonic() + seconds
    answer, output, ended = bytearray(), bytearray(), None
    selector = selectors.DefaultSelector()
    try:
        _send(process, request.encode())
        selector.register(process.stdout, selectors.EVENT_READ, answer)
        selector.register(process.stderr, selectors.EVENT_READ, output)
        exited_at = None
        while selector.get_map():
            now = time.monotonic()
            if now >= deadline:
                ended = "timeout"
                break
            if exited_at is None and process.poll() is not None:
                exited_at = now
                _kill_group(process.pid)  # what it left running holds no pipe open for long
            if exited_at is not None and now > exited_at + 1:
                break
            for key, _ in selector.select(min(0.1, deadline - now)):
                chunk = os.read(key.fileobj.fileno(), 1 << 16)
                if not chunk:
                    selector.unregister(key.fileobj)
                elif key.data is answer:
                    answer += chunk
                    if len(answer) > most:
                        ended = "too much"
                        break
                elif len(output) < OUTPUT_BYTES:
                    output += chunk[:OUTPUT_BYTES - len(output)]
            if ended:
                break
        if ended is None and process.poll() is None:  # its pipes closed, itself still running
            try:
                process.wait(max(0.0, deadline - time.monotonic()))
            except subprocess.TimeoutExpired:
                ended = "timeout"
    finally:
        selector.close()
        _kill_group(process.pid)
        process.kill()
        process.wait()
        for stream in (process.stdin, process.stdout, process.stderr):
            stream.close()
    return bytes(answer), bytes(output), ended or _status(process.returncode)


def _send(process: subprocess.Popen, data: bytes) -> None:
    try:
        process.stdin.write(data)
        process.stdin.close()
    except OSError:  # it ended before reading: its status says how
        pass


def _kill_group(pid: int) -> None:
    try:
        os.killpg(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def _status(code: int) -> str:
    if code < 0:
        try:
            return f"killed by {signal.Signals(-code).name}"
        except ValueError:
            return f"killed by signal {-code}"
    return f"exit status {code}"
