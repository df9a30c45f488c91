"""Every medium carries text from input as text (cnncalc/output/escape.py). Fuzzed: a report's names,
kinds, blocks and inputs are replaced by hostile strings (workflow commands, terminal escapes, bidi
and zero-width characters, table pipes, HTML, formulas), and each medium's output is read back by
a reader from outside cnncalc (csv, markdown-it, html.parser, GitHub's command syntax): it keeps its
shape, carries the text, and holds nothing that acts."""
from __future__ import annotations

import csv
import io
import json
import re
from contextlib import redirect_stdout
from dataclasses import replace
from html.parser import HTMLParser

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cnncalc.figures.report import block_rows
from cnncalc.graph import Scope
from cnncalc.output.escape import printed, shown
from cnncalc.output.notebook import render_notebook
from cnncalc.output.render import render_check, render_csv, render_markdown, render_table
from cnncalc.spec import build_graph
from cnncalc.summary import figures

FRAGMENTS = ["::", "::error::x", "::add-mask::y", "##[add-mask]z", "\n", "\r", "\x1b]52;c;aGk=\x07", "\x1b[31m",
             "\x1b]8;;http://x\x1b\\", "\u202e", "\u2066", "\u200b", "\u2028", "\x85", "\x00", "\t", " ", "|", "\\|",
             "`", "``", "<img src=x onerror=alert(1)>", "</script>", "<!--", "&amp;", "&#124;", '"', "'", "=", "+",
             "-", "@", "$\\frac{$", "[link=x]", "[/x]", "[x](javascript:alert(1))", "*", "_", "~", "%0A", "a", "."]
HOSTILE = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=3)), min_size=1, max_size=6).map("".join)
FUZZ = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])

SPEC = {"input": [3, 8, 8], "blocks": {"pair": {"layers": [{"conv2d": {"out_channels": 4, "kernel_size": 1}}, "relu"]}},
        "layers": [{"conv2d": {"out_channels": 4, "kernel_size": 3}, "name": "c"}, {"pair": None, "name": "b"},
                   {"add": None, "from": ["c", "b"]}, {"relu": None}]}
SUMMARY = figures(build_graph(SPEC, "<test>", {}))


def hostile(names: list[str]):
    """The summary's report with every name, kind, block and input replaced by a hostile string (made
    distinct by a number after it), and the summary's memory."""
    report = SUMMARY.report
    rename = {row.name: f"{names[i % len(names)]}{i}" for i, row in enumerate(report.layers)}
    scopes = {scope for row in report.layers for scope in row.scopes}
    rename |= {scope.name: f"{names[-1 - i % len(names)]}b{i}" for i, scope in enumerate(sorted(scopes, key=str))}
    layers = tuple(replace(row, name=rename[row.name], kind=names[i % len(names)] + "k",
                           inputs=tuple(rename[name] for name in row.inputs),
                           scopes=tuple(Scope(name=rename[s.name], kind=names[0]) for s in row.scopes))
                   for i, row in enumerate(report.layers))
    return replace(report, model=names[0], layers=layers), SUMMARY.memory


PLAIN = hostile(["x"])[0]  # the same report with harmless names: the shape hostile names must keep


def acts(line: str) -> bool:
    """Whether a GitHub runner or a terminal would act on this line."""
    return line.lstrip().startswith("::") or "##[" in line or not line.isprintable()


# ---- terminal and CI log ----------------------------------------------------------------------------


@FUZZ
@given(names=st.lists(HOSTILE, min_size=1, max_size=4), width=st.sampled_from([None, 60, 100]))
def test_terminal_tables_hold_nothing_that_acts(names, width):
    from cnncalc.cli import write_output

    report, memory = hostile(names)
    with redirect_stdout(io.StringIO()) as stdout:  # what the CLI prints
        write_output(render_table(report, width, memory))
    out = stdout.getvalue()
    assert not [line for line in out.splitlines() if acts(line)]
    if width is None:  # each row one line: the table keeps its shape
        assert len(out.splitlines()) == len(render_table(PLAIN, None, memory).splitlines())


@FUZZ
@given(text=HOSTILE)
def test_printed_output_is_the_text_escaped_and_json_stays_json(text):
    assert not [line for line in printed(text + "\n" + text).splitlines() if acts(line)]
    assert printed(text).count("\n") == text.count("\n")  # only the output's own lines
    encoded = json.dumps({"name": text}, indent=2)
    assert json.loads(printed(encoded)) == {"name": text}


def test_errors_and_messages_on_stderr_hold_nothing_that_acts(capsys):
    from cnncalc.cli import fail
    from cnncalc.errors import SpecError

    with pytest.raises(Exception):
        fail(SpecError("unknown kind '::error::x'", "a\n::add-mask::b.yaml", 3, "##[add-mask]c\x1b]52;c;\x07"))
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1 and not acts(err.rstrip("\n"))
    assert err.startswith("cnncalc: error: a\\n::add-mask::b.yaml:3: layer '##\\u005badd-mask]c\\x1b]52;c;\\x07'")


def test_shown_examples():
    assert shown("::error::x") == "\\u003a:error::x" and shown("  ::x") == "  \\u003a:x"
    assert shown("a::b") == "a::b" and shown("a ##[x]") == "a ##\\u005bx]"
    assert shown("a\u202eb\u200bc\x1b[0m") == "a\\u202eb\\u200bc\\x1b[0m"


# ---- GitHub workflow commands ----------------------------------------------------------------------


COMMAND = re.compile(r"::(error|warning) ([^:\n]*)::(.*)")


@FUZZ
@given(file=HOSTILE, model=HOSTILE, message=HOSTILE)
def test_github_annotations_are_one_command_each(file, model, message):
    from cnncalc.workflows.ci import Finding, Result

    results = [Result(file=file, model=model, findings=(Finding("invalid", message, 3),)),
               Result(file="ok.yaml", model="ok")]
    lines = render_check(results, "github", python_skipped=(file,)).split("\n")[:-1]  # as the runner reads lines
    assert len(lines) == 3 and lines[-1] == "2 models checked, 1 passed, 1 failed"
    for line in lines[:2]:
        assert line.isprintable()
        match = COMMAND.fullmatch(line)
        assert match, line
        properties = dict(item.split("=", 1) for item in match.group(2).split(","))
        assert set(properties) <= {"file", "line", "title"}
    # the runner's unescaping gives back the file and the message, whatever prints
    properties = dict(item.split("=", 1) for item in COMMAND.fullmatch(lines[0]).group(2).split(","))
    for escaped, text in ((properties["file"], file), (COMMAND.fullmatch(lines[0]).group(3), f"{model}: {message}")):
        assert unescape(escaped) == text or not text.replace("\r", "").replace("\n", "").isprintable()


def unescape(text: str) -> str:
    """As the runner reads a command (actions/runner ActionCommand.UnescapeValue): %0D, %0A, %3A, %2C, %25."""
    for escaped, character in (("%0D", "\r"), ("%0A", "\n"), ("%3A", ":"), ("%2C", ","), ("%25", "%")):
        text = text.replace(escaped, character)
    return text


# ---- Markdown -------------------------------------------------------------------------------------------


@FUZZ
@given(names=st.lists(HOSTILE, min_size=1, max_size=4))
def test_markdown_rows_keep_their_cells_and_carry_only_text(names):
    from markdown_it import MarkdownIt

    report, _ = hostile(names)
    tokens = MarkdownIt("commonmark").enable("table").parse(render_markdown(report))
    assert not {"html_block", "code_block", "fence"} & {token.type for token in tokens}
    rows = [i for i, token in enumerate(tokens) if token.type == "tr_open"]
    assert len(rows) == 1 + len(report.layers) + 1  # the header, every layer, the total
    for start in rows:
        end = next(i for i in range(start, len(tokens)) if tokens[i].type == "tr_close")
        assert sum(token.type in ("th_open", "td_open") for token in tokens[start:end]) == 6
    cells = [token for token in tokens if token.type == "inline"][7:]  # after the title and the header
    for i, layer in enumerate(report.layers):
        for cell, text in zip(cells[6 * i:6 * i + 2], (layer.name, layer.kind)):
            assert {child.type for child in cell.children} <= {"text"}, cell.children
            assert "".join(child.content for child in cell.children) == shown(text).strip()


def test_markdown_cells_render_as_the_name():
    from markdown_it import MarkdownIt

    name = "a | `b` <img src=x onerror=alert(1)> *c* [d](e) $x$ \\ ~f~"
    report, _ = hostile([name])
    rendered = MarkdownIt("commonmark").enable("table").render(render_markdown(report))
    assert "<img" not in rendered and "<code>" not in rendered and "<em>" not in rendered
    assert f"<td>{name.replace('&', '&amp;').replace('<', '&lt;').replace('>', '&gt;')}0</td>" in rendered


# ---- CSV ----------------------------------------------------------------------------------------------------


@FUZZ
@given(names=st.lists(HOSTILE, min_size=1, max_size=4))
def test_csv_reads_back_row_for_row_and_holds_no_formula(names):
    report, _ = hostile(names)
    rows = list(csv.reader(io.StringIO(render_csv(report), newline="")))
    assert len(rows) == 1 + len(report.layers) and all(len(row) == 15 for row in rows)
    for row, layer in zip(rows[1:], report.layers):
        assert row[0] in (layer.name, "'" + layer.name) and row[1] in (layer.kind, "'" + layer.kind)
        assert row[0] == layer.name or layer.name[0] in "=+-@\t\r"
        assert not row[0].startswith(("=", "+", "-", "@"))


# ---- HTML ------------------------------------------------------------------------------------------------


class Elements(HTMLParser):
    """Every element and attribute a browser would build, and the text it would show."""

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[tuple[str, tuple[str, ...]]] = []
        self.text: list[str] = []

    def handle_starttag(self, tag, attrs):
        self.tags.append((tag, tuple(name for name, _ in attrs)))

    def handle_data(self, data):
        self.text.append(data)


def elements(page: str) -> Elements:
    parser = Elements()
    parser.feed(page)
    parser.close()
    return parser


@FUZZ
@given(names=st.lists(HOSTILE, min_size=1, max_size=4))
def test_notebook_html_builds_only_its_own_elements(names):
    report, memory = hostile(names)
    parsed, safe = (elements(render_notebook(r, memory, block_rows(r))) for r in (report, PLAIN))
    assert parsed.tags == safe.tags  # the same elements, the same attributes: nothing injected
    text = "".join(parsed.text)
    assert all(layer.kind in text for layer in report.layers)


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(names=st.lists(HOSTILE.filter(str.isprintable).filter(lambda n: n.strip() and "." not in n and "$" not in n),
                      min_size=1, max_size=3))
def test_report_page_builds_only_its_own_elements(names):
    from cnncalc.output.page import render_page
    from cnncalc.workflows.page import page_figures

    def page(layer_names, model):
        spec = {"name": model, "input": [3, 8, 8],
                "layers": [{"relu": None, "name": f"{name}{i}"} for i, name in enumerate(layer_names)]}
        return render_page(page_figures(build_graph(spec, "<test>", {})))

    hostile_page = page(names, names[0])
    parsed, safe = elements(hostile_page), elements(page(["x"] * len(names), "x"))
    assert parsed.tags == safe.tags
    data = re.search(r'<script type="application/json" id="data">(.*?)</script>', hostile_page, re.S).group(1)
    assert [layer["name"] for layer in json.loads(data)["layers"][1:]] == [f"{n}{i}" for i, n in enumerate(names)]


# ---- every command, end to end ------------------------------------------------------------------------

# a name may hold no control, bidi or zero-width character (refused when read: test_untrusted.py); what
# else would act on a terminal, GitHub or a renderer is escaped on the way out
HOSTILE_SPEC = """name: "::error::model ##[add-mask]m"
input: [3, 8, 8]
blocks:
  "::warning::block ::add-mask::b":
    layers: [relu]
layers:
  - conv2d: {out_channels: 4, kernel_size: 3}
    name: "::error::x"
  - relu:
    name: "  ##[add-mask]secret | `c` <img src=x onerror=alert(1)> [/x] [link=http://x]y"
  - "::warning::block ::add-mask::b"
  - sequential:
      - relu
    label: "::stop-commands::z"
"""


@pytest.mark.parametrize("command", [["table"], ["table", "--depth", "1"], ["table", "--explain"],
                                     ["table", "--columns", "rf"], ["table", "-f", "json"], ["table", "-f", "csv"],
                                     ["table", "-f", "markdown"], ["rf"], ["graph"], ["graph", "-f", "dot"], ["show"],
                                     ["sweep", "--sizes", "8:10:1"], ["sizes", "--min", "8", "--max", "9"], ["check"],
                                     ["lock"]], ids=" ".join)
def test_no_command_prints_what_acts(tmp_path, command):
    from conftest import run_here

    spec = tmp_path / "::error::f\u202e.yaml"
    spec.write_text(HOSTILE_SPEC)
    result = run_here(*command, str(spec))
    assert result.returncode == 0, result.stdout + result.stderr
    assert not [line for line in (result.stdout + result.stderr).splitlines() if acts(line)]
    if command == ["table", "-f", "json"]:
        assert json.loads(result.stdout)["layers"][2]["name"].startswith("  ##[add-mask]secret | `c` <img")


def test_verify_table_shows_names_as_text_not_rich_markup():
    from types import SimpleNamespace

    from cnncalc.verify.report import render_table
    from cnncalc.verify.verdict import Check

    name = "[/x] [link=http://x]y[/link] [bold]z"  # rich markup: a closing tag without an opening one raises
    checks = (Check(layer=name, figure="params", expected=1, measured=2, formula="[red]f"),
              Check(layer="total", figure="params", expected=1, measured=2))
    result = SimpleNamespace(checks=checks, memory=(), failed=checks, count=2, model="m", device="cpu",
                             subject="the module itself", notes=(f"thop cannot count this module: {name}",))
    text = render_table(result)
    assert f"✗ {name}: params: cnncalc 1, measured 2 [[red]f]" in text and text.count(name) == 3
    assert f"note: thop cannot count this module: {name}" in text  # a peer's error message, as text


@settings(max_examples=300)
@given(st.lists(st.sampled_from(FRAGMENTS + ["a", "b", "\n", ":", "#", "["]), max_size=12).map("".join))
def test_printed_checks_a_whole_output_at_once_as_line_by_line(text):
    """printed's fast path (a whole ASCII output checked in one pass) gives what shown gives each line."""
    assert printed(text) == "\n".join(shown(line) for line in text.split("\n"))
    assert printed(text + "é") == "\n".join(shown(line) for line in (text + "é").split("\n"))
