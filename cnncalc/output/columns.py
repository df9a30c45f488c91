"""Plain-text tables fitted to a width, as a good terminal table does: the flexible column (names)
narrows and wraps; then, step by step in the order each table states, numbers shorten to K/M/G and
columns drop. With no width (output that is not a terminal, and no COLUMNS), a table keeps its
natural width, so what a script reads does not depend on where it ran.

Laid out here rather than by rich's Table, which measures every cell: 0.3 ms a row, 3 s for
10,000 layers."""
from __future__ import annotations

import re
from dataclasses import dataclass

from .escape import shown
from .units import human

LEAST_FLEXIBLE = 16  # a name column narrower than this wraps into unreadable pieces
NUMBER = re.compile(r"\d{1,3}(,\d{3})+")


@dataclass(frozen=True)
class Column:
    key: str
    title: str
    right: bool  # numbers align right
    centred: bool = False  # marks (✓, ✗) sit under the middle of their title
    flexible: bool = False  # the column that narrows and wraps (default: the first, names)


@dataclass(frozen=True)
class Step:
    """One way to save width: `shorten` the numbers of some columns, or `drop` them."""
    action: str
    keys: tuple[str, ...]


def shorten(cell: str) -> str:
    """'15,346,630,656' → '15.3 G', '138,357,544 B' → '138.4 MB'; other cells stay."""
    match = NUMBER.fullmatch(cell.removesuffix(" B"))
    return human(int(match.group().replace(",", "")), "B" * cell.endswith(" B")) if match else cell


def layout(columns: list[Column], rows: list[list[str]], width: int | None, steps: tuple[Step, ...] = ()) -> list[str]:
    """The lines of a table: a header, then the rows (a cell per column, in order). The flexible column
    is the one marked so, else the first (names)."""
    flexible = _flexible(columns)
    cells = _cells(columns, rows)
    for step in steps:
        if width is None or _needed(columns, cells, flexible) <= width:
            break
        present = [key for key in step.keys if key in cells]
        if step.action == "shorten":
            cells.update({key: [cells[key][0], *map(shorten, cells[key][1:])] for key in present})
        else:
            columns = [column for column in columns if column.key not in present]
    widths = {key: max(map(len, column)) for key, column in cells.items()}
    if width is not None:
        rest = sum(widths[c.key] + 2 for c in columns if c.key != flexible)
        widths[flexible] = min(widths[flexible], max(_least(cells[flexible]), width - rest))
    return [line for index in range(len(rows) + 1) for line in _row(columns, cells, widths, index, flexible)]


def needed(columns: list[Column], rows: list[list[str]]) -> int:
    """The least width a table takes: its name column wrapped as narrow as it can be."""
    return _needed(columns, _cells(columns, rows), _flexible(columns))


def _flexible(columns: list[Column]) -> str:
    return next((column.key for column in columns if column.flexible), columns[0].key)


def _cells(columns: list[Column], rows: list[list[str]]) -> dict[str, list[str]]:
    """Each column's cells, its title first."""
    return {column.key: [column.title, *(shown(row[i]) for row in rows)] for i, column in enumerate(columns)}


def _needed(columns: list[Column], cells: dict, flexible: str) -> int:
    natural = [min(_least(cells[c.key]), max(map(len, cells[c.key]))) if c.key == flexible
               else max(map(len, cells[c.key])) for c in columns]
    return sum(natural) + 2 * (len(natural) - 1)


def _least(names: list[str]) -> int:
    """The narrowest the name column can be: LEAST_FLEXIBLE, or its longest piece that cannot wrap (a
    name with no space, dot or slash: mobilenet_v3_large), which would push its row out of line."""
    return max(LEAST_FLEXIBLE, *(len(name) - len(name.lstrip()) + len(piece) for name in names
                                 for piece in re.findall(r"[^\s./]+[./]?", name)))


def _row(columns: list[Column], cells: dict, widths: dict, index: int, flexible: str) -> list[str]:
    """One row's line, and the lines its flexible cell wraps onto, under that cell."""
    pieces, continued, offset = [], [], 0
    for column in columns:
        cell, width = cells[column.key][index], widths[column.key]
        if column.key == flexible and len(cell) > width:
            cell, *continued = _wrap_name(cell, width)
            continued = [" " * offset + line for line in continued]
        pieces.append(cell.rjust(width) if column.right else cell.center(width) if column.centred
                      else cell.ljust(width))
        offset += width + 2
    return ["  ".join(pieces).rstrip()] + continued


def _wrap_name(cell: str, width: int) -> list[str]:
    """A name cell: continued deeper than a child row (two) is indented."""
    return _broken(cell, width, 4)


def _broken(text: str, width: int, deeper: int) -> list[str]:
    """Text in lines of at most `width` where it can be: broken at spaces, and inside a word too long
    for a line after its dots and slashes (layer1.0.downsample. / 0.conv2d); continued lines are
    indented `deeper` than the first."""
    indent = text[:len(text) - len(text.lstrip())]
    tokens = []  # (text, whether a space comes before it)
    for word in text.split():
        parts = [word] if len(indent) + deeper + len(word) <= width else re.findall(r"[^./]+[./]?|[./]", word)
        tokens += [(parts[0], True)] + [(part, False) for part in parts[1:]]
    lines, line = [], indent
    for piece, spaced in tokens:
        candidate = line + (" " if spaced and line.strip() else "") + piece
        if len(candidate) > width and line.strip():
            lines.append(line)
            candidate = indent + " " * deeper + piece
        line = candidate
    return lines + [line]


def wrap(lines: list[str], width: int | None) -> list[str]:
    """Free text (notes, findings, formulas) wrapped to the width, continuing under its indent."""
    lines = [shown(line) for line in lines]  # a line from input stays one line
    if width is None:
        return lines
    return [piece for line in lines for piece in (_broken(line, width, 2) if len(line) > width else [line])]
