"""Text from input (file names, spec strings, error messages) as a terminal or a CI log may show it:
every character that could act rather than print (a newline starting a GitHub workflow command
`::error::`, an escape sequence, a bidi override, a zero-width joiner) written as its escape."""
from __future__ import annotations


def shown(text: str) -> str:
    """`text` with each character Python does not print (controls, format characters such as bidi
    marks and zero-width joiners, line separators) as Python writes it in a string: \\n, \\x1b, \\u202e."""
    if text.isprintable():
        return text
    return "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
