"""A refactoring guard: every command's output on every zoo model, saved before a change and
compared byte for byte after it.

    python tools/snapshot.py save /tmp/before     # before the first change
    python tools/snapshot.py compare /tmp/before  # after the last: lists every file that differs

It drives the command line in process (typer's runner), so it survives any reshuffle of the
modules behind it. It proves nothing about the figures themselves (the tests do that against
torch and the peer tools); it proves a refactor changed none of them.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from typer.testing import CliRunner

CONVENTIONS = ("torchvision", "torch", "fvcore", "torchinfo", "ptflops", "thop")


def commands(models: list[str]) -> dict[str, list[str]]:
    """File name → the command whose output it holds."""
    runs = {"list.txt": ["list"], "check.json": ["check", "specs", "--format", "json"]}
    for model in models:
        runs[f"{model}.table.txt"] = ["table", model]
        runs[f"{model}.json"] = ["table", model, "--format", "json"]
        runs[f"{model}.explain.txt"] = ["table", model, "--explain"]
        runs[f"{model}.depth1.txt"] = ["table", model, "--depth", "1", "--columns", "rf"]
        runs[f"{model}.csv"] = ["table", model, "--format", "csv", "--batch", "3", "--dtype", "float16"]
        runs[f"{model}.md"] = ["table", model, "--format", "markdown", "--optimizer", "sgd"]
        runs[f"{model}.rf.json"] = ["rf", model, "--format", "json"]
        runs[f"{model}.rf.txt"] = ["rf", model]
        runs[f"{model}.mermaid"] = ["graph", model]
        for convention in CONVENTIONS:
            runs[f"{model}.{convention}.txt"] = ["table", model, "--convention", convention]
            runs[f"{model}.{convention}.json"] = ["table", model, "--convention", convention, "--format", "json"]
    return runs


def outputs() -> dict[str, str]:
    from cnncalc.cli import app

    runner = CliRunner()
    models = [row["model"] for row in json.loads(runner.invoke(app, ["list", "--format", "json"]).stdout)]
    result = {}
    for name, command in commands(models).items():
        run = runner.invoke(app, command, env={"COLUMNS": "100"})
        result[name] = f"exit {run.exit_code}\n{run.stdout}"
    return result


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("action", choices=("save", "compare"))
    parser.add_argument("folder", type=Path)
    options = parser.parse_args()
    current = outputs()
    if options.action == "save":
        options.folder.mkdir(parents=True, exist_ok=True)
        for name, text in current.items():
            (options.folder / name).write_text(text, encoding="utf-8")
        print(f"saved {len(current)} outputs in {options.folder}")
        return 0
    saved = {path.name: path.read_text(encoding="utf-8") for path in options.folder.iterdir()}
    differ = sorted(name for name in saved.keys() | current.keys() if saved.get(name) != current.get(name))
    for name in differ:
        print(f"differs: {name}")
    print(f"{len(current) - len(differ)} of {len(saved.keys() | current.keys())} outputs identical")
    return 1 if differ else 0


if __name__ == "__main__":
    sys.exit(main())
