"""Refresh the command output shown in README.md and docs/ by running each command again.

A fenced block whose first line starts with `$ ` is a transcript: every `$ COMMAND` line is run
(in a scratch folder holding copies of specs/ and examples/, so `lock` and `sed -i` change only the
copies; in a terminal 100 columns wide) and the lines up to the next `$ ` line are replaced by its
output, with the scratch and source folders left out of paths. An output shown cut, ending in a
`...` line, stays cut at the same length (a lone `...` is filled with all of it). Each command runs
in a shell of its own: write `cmd || echo "exit code $?"` to show an exit code.

    python tools/readme.py [FILE ...]      # default: README.md
    python tools/readme.py --check         # exit 1 if any transcript is stale
"""
from __future__ import annotations

import argparse
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
FENCE = re.compile(r"^```[a-z]*\n(\$ .*?)^```\n", re.M | re.S)


def run(command: str, scratch: Path) -> list[str]:
    env = dict(os.environ, COLUMNS="100", PYTHONPATH=str(ROOT))
    result = subprocess.run(command, shell=True, cwd=scratch, env=env, capture_output=True, text=True, timeout=600)
    text = (result.stdout + result.stderr).replace(f"{scratch}/", "").replace(f"{ROOT}/", "")
    return text.rstrip("\n").splitlines()


def refresh(transcript: str, scratch: Path) -> str:
    """The transcript with each command's output produced again."""
    out, lines = [], transcript.rstrip("\n").splitlines()
    for index, line in enumerate(lines):
        if not line.startswith("$ "):
            continue
        shown = []
        for following in lines[index + 1:]:
            if following.startswith("$ "):
                break
            shown.append(following)
        produced = run(line[2:], scratch)
        if len(shown) > 1 and shown[-1] == "...":  # a lone `...` asks for the whole output
            produced = produced[:len(shown) - 1] + ["..."]
        out += [line, *produced]
    return "\n".join(out) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("files", nargs="*", default=["README.md"])
    parser.add_argument("--check", action="store_true", help="only report stale transcripts")
    options = parser.parse_args()
    stale, scratch = False, Path(tempfile.mkdtemp(prefix="cnncalc-readme-"))
    for folder in ("specs", "examples"):
        shutil.copytree(ROOT / folder, scratch / folder)
    for name in options.files:
        path = ROOT / name
        text = path.read_text(encoding="utf-8")
        new = FENCE.sub(lambda m: m.group(0).replace(m.group(1), refresh(m.group(1), scratch)), text)
        if new != text:
            stale = True
            print(f"{name}: {'stale' if options.check else 'refreshed'}")
            if not options.check:
                path.write_text(new, encoding="utf-8")
    shutil.rmtree(scratch)
    sys.exit(1 if stale and options.check else 0)


if __name__ == "__main__":
    main()
