"""Text from input (layer and block names, kinds, file names, lock-file fields, error messages) as
each medium must carry it so that it can only be read, never act: one function per medium, which
every renderer of that medium uses.

- terminal and CI log: `shown` for one line, `printed` for a whole output (all that reaches stdout
  or stderr): no control, bidi or zero-width character, and no line a GitHub runner takes for a
  workflow command (`::error::` after blanks, `##[` anywhere);
- GitHub workflow command: `github_data`, `github_property`, as GitHub's toolkit escapes them;
- Markdown table cell: `markdown`; CSV cell: `csv_cell`; HTML text or attribute: `html`;
- a Mermaid label: `mermaid_text`; a Graphviz DOT string: `dot_text`."""
from __future__ import annotations

import html as _html
import re

# ---- terminal, and a CI log reading it ----------------------------------------------------------

# What a GitHub runner acts on: a line whose first non-blank characters are `::` (its commands), or
# `##[` anywhere in a line (the legacy commands, still parsed: actions/runner, ActionCommand.TryParse).
_COMMAND_START = re.compile(r"^(\s*):(?=:)")
_LEGACY_COMMAND = "##["


def shown(text: str) -> str:
    """One line of text as a terminal or a CI log may show it: each character Python does not print
    (controls, bidi marks, zero-width joiners, line separators) as Python writes it in a string (\\n,
    \\x1b, \\u202e), and what would start a workflow command as well (\\u003a: and ##\\u005b).
    These escapes read the same in a JSON string, so JSON stays JSON with the same values."""
    if text.isprintable() and "::" not in text and _LEGACY_COMMAND not in text:
        return text
    return _COMMAND_START.sub(r"\1\\u003a", _visible(text)).replace(_LEGACY_COMMAND, "##\\u005b")


def _visible(text: str) -> str:
    """Each character Python does not print as Python writes it in a string."""
    return text if text.isprintable() else "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)


def printed(text: str) -> str:
    """A whole output (a table, JSON, CSV, a message) as it may reach a terminal or a CI log: each
    line shown."""
    if "::" not in text and _LEGACY_COMMAND not in text and _printable_lines(text):
        return text  # every line already as shown would give it (a table of 78 MB: checked at once)
    return "\n".join(map(shown, text.split("\n")))


_PRINTABLE_ASCII = bytes(range(0x20, 0x7F)) + b"\n"


def _printable_lines(text: str) -> bool:
    """Whether every character but the line ends prints; for ASCII text (JSON) without str.isprintable's
    per-character look-up."""
    if text.isascii():  # a megabyte at a time: no second copy of a large output
        return not any(text[start:start + _CHUNK].encode("ascii").translate(None, _PRINTABLE_ASCII)
                       for start in range(0, len(text), _CHUNK))
    return text.replace("\n", "").isprintable()


_CHUNK = 1 << 20


# ---- GitHub workflow commands --------------------------------------------------------------------


def github_data(text: str) -> str:
    """A workflow command's message, escaped as GitHub's toolkit does (%, CR, LF); other characters
    that do not print (an escape sequence the log viewer would draw) as the terminal shows them."""
    return _visible(text.replace("%", "%25").replace("\r", "%0D").replace("\n", "%0A"))


def github_property(text: str) -> str:
    """A workflow command's property value: also ':' and ','."""
    return github_data(text).replace(":", "%3A").replace(",", "%2C")


# ---- Markdown --------------------------------------------------------------------------------------

# Every character that starts markup inside a GitHub table cell: a cell split (|), code (`), HTML (<, &),
# links ([ ]), emphasis (* _ ~), math ($), and the escape itself. A backslash before ASCII punctuation
# makes it literal (CommonMark, 2.4); `\|` is GitHub's own way to keep a pipe in a cell.
_MARKDOWN = re.compile(r"([\\`*_\[\]<>&|~$])")


def markdown(text: str) -> str:
    """One table cell's text: literal whatever it holds, on one line."""
    return _MARKDOWN.sub(r"\\\1", shown(text))


# ---- CSV ------------------------------------------------------------------------------------------

# A cell a spreadsheet would read as a formula (OWASP, CSV injection): its text is kept, after a quote.
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def csv_cell(text: str) -> str:
    """A text cell, which the csv module quotes (every text cell: a CR, which it would leave bare, and
    a line's start stay inside quotes): never a formula."""
    return "'" + text if text.startswith(_FORMULA_START) else text


# ---- HTML -------------------------------------------------------------------------------------------


def html(text: str) -> str:
    """Text for an HTML element or a quoted attribute."""
    return _html.escape(text, quote=True)


# ---- diagrams ---------------------------------------------------------------------------------------


def mermaid_text(text: str) -> str:
    """Text inside a quoted Mermaid label: quotes and markup as Mermaid's entity codes, on one line."""
    return shown(text).replace("#", "#35;").replace('"', "#quot;").replace("<", "#lt;").replace(">", "#gt;")


def dot_text(text: str) -> str:
    """Text inside a quoted DOT string, on one line."""
    return shown(text).replace("\\", "\\\\").replace('"', '\\"')
