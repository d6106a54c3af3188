"""What each preset key means, read from the string written beside its field (an attribute
docstring, as Sphinx reads them), so the meaning lives where the key is declared and a kind that
redeclares a shared key says what it means there.

Example:
    >>> from studio.preset.schema import OutputSpec
    >>> field_meanings(OutputSpec)["fps"]
    'Frames per second.'
"""

from __future__ import annotations

import ast
import functools
import inspect
import textwrap


@functools.cache
def own_meanings(cls: type) -> dict[str, str]:
    """The meanings written in ``cls``'s own body: a field followed by a string."""
    try:
        source = textwrap.dedent(inspect.getsource(cls))
    except (OSError, TypeError):
        return {}
    body = ast.parse(source).body[0].body
    found = {}
    for node, following in zip(body, body[1:]):
        if (isinstance(node, ast.AnnAssign) and isinstance(node.target, ast.Name)
                and isinstance(following, ast.Expr) and isinstance(following.value, ast.Constant)
                and isinstance(following.value.value, str)):
            found[node.target.id] = " ".join(following.value.value.split())
    return found


def field_meanings(cls: type) -> dict[str, str]:
    """Every field's meaning for ``cls``: the nearest class in its MRO that writes one wins, so a
    kind's own words replace a shared key group's."""
    meanings: dict[str, str] = {}
    for base in reversed(cls.__mro__[:-1]):  # object last in the MRO, first dropped
        meanings.update(own_meanings(base))
    return meanings
