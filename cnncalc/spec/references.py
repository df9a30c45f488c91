"""Where an entry is expanded (its name prefix, parameters, scopes and local names), and resolving the
names a `from` gives once the whole spec is expanded, so forward names and cycles show."""
from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from ..errors import SpecError, did_you_mean
from ..graph import INPUT, Scope


@dataclass(frozen=True, kw_only=True)
class Context:
    """The group or block an entry is expanded in."""
    prefix: str                     # the group's name and a dot, prepended to its members' names
    env: dict                       # parameters visible to expressions
    scopes: tuple[Scope, ...]
    input: Any                      # a node name, or a Reference still to resolve
    parent: "Context | None" = None
    names: dict = field(default_factory=dict)  # local name → node name or Reference
    use_line: int | None = None     # where the enclosing block was used
    frozen: bool = False            # everything inside is excluded from training

    def child(self, prefix: str, env: dict, scope: Scope, input_: Any, use_line: int | None,
              frozen: bool = False) -> "Context":
        return Context(prefix=prefix, env=env, scopes=self.scopes + (scope,), input=input_, parent=self,
                       use_line=use_line or self.use_line, frozen=self.frozen or frozen)

    def spliced(self, env: dict, frozen: bool) -> "Context":
        """The same group, for an unnamed group's entries: its names land here too."""
        return replace(self, env=env, frozen=self.frozen or frozen)


@dataclass(frozen=True, kw_only=True)
class Reference:
    """A name written in `from`, in the context it was written in."""
    text: str
    context: Context = field(compare=False)
    line: int | None
    layer: str


def scoped(reference: Reference, last: Context | None) -> Any:
    """What a reference names in its own context or an enclosing one, up to `last` (None: the root)."""
    context = reference.context
    while context is not None:
        target = context.input if reference.text == INPUT else context.names.get(reference.text)
        if target is not None or context is last:
            return target
        context = context.parent
    return None


def resolve(value: Any, names: set[str], outputs: dict, source: str) -> str:
    """A node name for a reference: local names first, then enclosing blocks, then full names (of
    layers, or of groups standing for their output)."""
    seen = set()
    while isinstance(value, Reference):
        if id(value) in seen:  # empty groups fed, in a circle, by each other's names
            raise SpecError(f"'from' names '{value.text}', which leads back to itself through empty groups",
                            source, value.line, value.layer)
        seen.add(id(value))
        target = scoped(value, None)
        if target is None:
            target = value.text if value.text in names else outputs.get(value.text)
        if target is None:
            raise SpecError(f"'from' names '{value.text}', which is no layer of this spec"
                            f"{did_you_mean(value.text, names)}", source, value.line, value.layer)
        value = target
    return value
