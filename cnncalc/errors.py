"""The one error type for bad input: it knows the file, line and layer it is about."""
from __future__ import annotations

import difflib
import reprlib
import unicodedata


MESSAGE_CHARS = 1_000  # an error quotes its input, never a wall of it


class SpecError(Exception):
    """Invalid spec or arguments; the CLI prints it as one line and exits 2."""

    def __init__(self, message: str, file: str | None = None, line: int | None = None,
                 layer: str | None = None, detail: tuple[str, ...] = ()):
        message = message if len(message) <= MESSAGE_CHARS else message[:MESSAGE_CHARS - 3] + "..."
        layer = layer if layer is None or len(layer) <= 200 else layer[:197] + "..."
        file = file if file is None or len(file) <= 300 else "..." + file[-297:]  # its own name, at least
        super().__init__(message)
        self.message, self.file, self.line, self.layer = message, file, line, layer
        self.detail = detail  # every item the one line sums up, which --verbose prints

    def __str__(self) -> str:
        where = ":".join(str(p) for p in (self.file, self.line) if p is not None)
        layer = f"layer '{self.layer}': " if self.layer else ""
        return f"{where + ': ' if where else ''}{layer}{self.message}"


class NotASpec(SpecError):
    """A file that holds no spec at all (a workflow file, a config): named as such, and skipped by a
    folder scan or a hook that passes every YAML file."""


MAX_ERRORS = 20  # a compiler's habit: enough to fix a file in one pass, not a wall of text


class SpecErrors(SpecError):
    """The independent errors of one spec, in the order found; prints one line each."""

    def __init__(self, errors: list[SpecError]):
        first = errors[0]
        super().__init__(first.message, first.file, first.line, first.layer)
        self.errors = tuple(errors)

    def __str__(self) -> str:
        return "\n".join(str(error) for error in self.errors)


class ErrorLog:
    """Collects a spec's errors so that one run reports them all; the same message on the same line
    (a repeated block) counts once. Raises when MAX_ERRORS are in."""

    def __init__(self):
        self.errors: list[SpecError] = []
        self.seen: set[tuple] = set()

    def add(self, error: SpecError) -> None:
        key = (error.file, error.line, error.message)
        if key not in self.seen:
            self.seen.add(key)
            self.errors.append(error)
        if len(self.errors) >= MAX_ERRORS:
            self.raise_errors()

    def attempt(self, function, *args, **kwargs):
        """function(*args, **kwargs); its errors (one or several) logged instead, and None."""
        try:
            return function(*args, **kwargs)
        except SpecError as error:
            for each in every_error(error):
                self.add(each)
            return None

    def raise_errors(self, last: SpecError | None = None) -> None:
        """Raise what was collected and `last` (an error that stopped the work, or another log's errors),
        if anything."""
        more = [error for error in every_error(last) if error not in self.errors] if last is not None else []
        errors = self.errors + more
        if len(errors) == 1:
            raise errors[0]
        if errors:
            raise SpecErrors(errors)


def _short_repr() -> reprlib.Repr:
    shown = reprlib.Repr()
    shown.maxlevel, shown.maxstring, shown.maxlong, shown.maxother = 3, 80, 80, 80
    shown.maxlist = shown.maxtuple = shown.maxdict = shown.maxset = 8
    return shown


_SHORT = _short_repr()


def quoted(value: object) -> str:
    """A value as an error shows it: its repr, cut to a few hundred characters however large it is (a
    list of 10^8 items is never written out)."""
    return _SHORT.repr(value)


def every_error(error: SpecError) -> tuple[SpecError, ...]:
    return getattr(error, "errors", (error,))


class LayerError(ValueError):
    """Raised by calculators and argument checks; located into a SpecError by the caller."""


def did_you_mean(name: object, options) -> str:
    """A hint naming the closest option to a misspelt name, or nothing."""
    close = difflib.get_close_matches(str(name), [str(o) for o in options], n=1)
    return f" (did you mean '{close[0]}'?)" if close else ""


_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_ZERO_WIDTH = frozenset("\u180e\u200b\u200c\u200d\u2060\ufeff")


def unprintable_name(what: str, name: str) -> str | None:
    """The error for a name from input (a layer, group, block or model name, a label) holding a character
    that does not print as itself: control, bidi (which reorders what follows it) or zero-width; the
    first such character named as an escape. None for a name that prints as written."""
    if name.isprintable():
        return None
    char = next(c for c in name if not c.isprintable())
    kind = "a control character" if unicodedata.category(char) == "Cc" else "a bidi control" if char in _BIDI \
        else "a zero-width character" if char in _ZERO_WIDTH else "a character that does not print"
    called = unicodedata.name(char, "")
    return (f"{what} {quoted(name)} holds {repr(char)[1:-1]}{f' ({called})' if called else ''}, {kind}: names may "
            "hold no control, bidi or zero-width characters")
