"""Turn TOML values into typed, frozen dataclasses, field by field, with precise errors.

A field's annotation says what it accepts; ``dataclasses.field(metadata=...)`` adds bounds
(``min``, ``max``, ``below``), a regular expression (``pattern``) and a human word for the
expectation (``expect``). Scene dataclasses may define ``check()`` for rules that join fields;
it raises :class:`Problem` with the key it is about. The ceilings in force (``--raise-limits``)
travel as a :class:`~studio.preset.limits.Limits` value.
"""

from __future__ import annotations

import dataclasses
import re
import types
import typing
from typing import Any, Literal, Union

from studio.errors import PresetError, did_you_mean
from studio.preset.limits import DEFAULT, Limits


class Problem(Exception):
    """Raised inside coercion; turned into a PresetError once the file and full path are known."""

    def __init__(self, key: str, problem: str, expected: str | None = None, found: Any = None,
                 hint: str | None = None):
        super().__init__(problem)
        self.key, self.problem, self.expected, self.hint = key, problem, expected, hint
        self.found = None if found is None else describe(found)


def describe(value: Any) -> str:
    """A short rendering of a found value, with its TOML type."""
    kind = {bool: "boolean", int: "integer", float: "float", str: "string",
            list: "array", dict: "table"}.get(type(value), type(value).__name__)
    text = repr(value) if not isinstance(value, (dict, list)) else _toml_short(value)
    if len(text) > 60:
        text = text[:57] + "..."
    return f"{kind} {text}"


def _toml_short(value: Any) -> str:
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml_short(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml_short(v) for v in value) + "]"
    return repr(value)


def expectation(annotation: Any) -> str:
    """Words for what an annotation accepts."""
    origin = typing.get_origin(annotation)
    if annotation is type(None):
        return "nothing"
    if annotation is bool:
        return "true or false"
    if annotation is int:
        return "an integer"
    if annotation is float:
        return "a number"
    if annotation is str:
        return "a string"
    if origin is Literal:
        return "one of " + ", ".join(f'"{a}"' for a in typing.get_args(annotation))
    if origin in (Union, types.UnionType):
        parts = [expectation(a) for a in typing.get_args(annotation) if a is not type(None)]
        return " or ".join(parts)
    if origin is tuple:
        args = typing.get_args(annotation)
        if len(args) == 2 and args[1] is Ellipsis:
            return f"an array of {_plural(args[0])}"
        return f"an array of {len(args)} {_plural(args[0])}"
    if origin is dict:
        return f"a table of {_plural(typing.get_args(annotation)[1])}"
    if dataclasses.is_dataclass(annotation):
        return "a table"
    return str(annotation)


def _plural(annotation: Any) -> str:
    return {int: "integers", float: "numbers", str: "strings", bool: "booleans"}.get(
        annotation, expectation(annotation).replace("an array", "arrays"))


def coerce(value: Any, annotation: Any, key: str, limits: Limits = DEFAULT) -> Any:
    """Check ``value`` against ``annotation`` and convert it (lists to tuples, ints to floats)."""
    origin = typing.get_origin(annotation)
    if origin in (Union, types.UnionType):
        options = typing.get_args(annotation)
        for option in options:
            try:
                return coerce(value, option, key, limits)
            except Problem:
                continue
        raise Problem(key, "wrong type", expectation(annotation), value)
    if annotation is type(None):
        if value is None:
            return None
        raise Problem(key, "wrong type", "nothing", value)
    if annotation is bool:
        if isinstance(value, bool):
            return value
    elif annotation is int:
        if isinstance(value, int) and not isinstance(value, bool):
            return value
    elif annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            number = float(value)
            if number != number or number in (float("inf"), float("-inf")):
                raise Problem(key, "not a finite number", "a finite number", value)
            return number
    elif annotation is str:
        if isinstance(value, str):
            return value
    elif origin is Literal:
        choices = typing.get_args(annotation)
        if isinstance(value, str) and value in choices:
            return value
        hint = did_you_mean(value, choices) if isinstance(value, str) else None
        raise Problem(key, "not a known choice", expectation(annotation), value, hint)
    elif origin is tuple:
        args = typing.get_args(annotation)
        if isinstance(value, list):
            if len(args) == 2 and args[1] is Ellipsis:
                return tuple(coerce(v, args[0], f"{key}.{i}") for i, v in enumerate(value))
            if len(value) == len(args):
                return tuple(coerce(v, a, f"{key}.{i}") for i, (v, a) in enumerate(zip(value, args)))
    elif origin is dict:
        if isinstance(value, dict):
            _, value_type = typing.get_args(annotation)
            return types.MappingProxyType(
                {k: coerce(v, value_type, f"{key}.{k}") for k, v in value.items()})
    elif dataclasses.is_dataclass(annotation):
        if isinstance(value, dict):
            return build(annotation, value, key, limits)
    else:  # pragma: no cover - a schema bug, not a user error
        raise TypeError(f"unsupported annotation {annotation!r}")
    raise Problem(key, "wrong type", expectation(annotation), value)


def _check_bounds(value: Any, meta: typing.Mapping[str, Any], key: str, limits: Limits) -> None:
    for number in _numbers(value):
        if not isinstance(number, (int, float)) or isinstance(number, bool):
            continue
        expect = meta.get("expect")
        if "min" in meta and number < meta["min"]:
            raise Problem(key, "too small", expect or f"at least {meta['min']}", number)
        if "below" in meta and number >= meta["below"]:
            raise Problem(key, "out of range", expect or f"less than {meta['below']}", number)
        ceiling = meta.get("max")
        if ceiling is not None and "limit" in meta:
            ceiling = limits.raised(ceiling)
        if ceiling is not None and number > ceiling:
            limit = meta.get("limit")
            problem = f"over the limit{f' ({limit}; raise it with --raise-limits N)' if limit else ''}"
            raise Problem(key, problem, expect if expect and ceiling == meta["max"] else f"at most {ceiling}",
                          number)
    if "pattern" in meta and isinstance(value, str) and not re.fullmatch(meta["pattern"], value):
        raise Problem(key, "badly formed", meta.get("expect", f"text matching {meta['pattern']}"), value)


def _numbers(value: Any):
    """Every number in a value, nested arrays included (``[[0.4, 0.3], [0.3, 0.2]]``)."""
    if isinstance(value, tuple):
        for item in value:
            yield from _numbers(item)
    else:
        yield value


def build(cls: type, table: Any, key: str, limits: Limits = DEFAULT) -> Any:
    """Build dataclass ``cls`` from a TOML table; unknown keys are refused with a hint.

    A field marked ``reversed`` (sizes: ``[width, height]`` in TOML) is stored reversed,
    ``(height, width)``, after its checks, so errors still name the preset's own order.
    """
    if not isinstance(table, dict):
        raise Problem(key, "wrong type", "a table", table)
    fields = {f.name: f for f in dataclasses.fields(cls) if f.init}
    hints = typing.get_type_hints(cls)
    prefix = f"{key}." if key else ""
    for name in table:
        if name not in fields:
            raise Problem(prefix + name, f"unknown key in {getattr(cls, 'WHAT', 'this table')}",
                          None, None, did_you_mean(name, fields) or
                          "valid keys: " + ", ".join(sorted(fields)))
    values = {}
    for name, field in fields.items():
        if name in table:
            value = coerce(table[name], hints[name], prefix + name, limits)
            _check_bounds(value, field.metadata, prefix + name, limits)
            if field.metadata.get("reversed") and isinstance(value, tuple):
                value = value[::-1]
            values[name] = value
        elif field.default is dataclasses.MISSING and field.default_factory is dataclasses.MISSING:
            raise Problem(prefix + name, "required key is missing",
                          expectation(hints[name]), None)
    instance = cls(**values)
    for name in table:  # a key given where another key's value makes it do nothing is refused, not ignored
        needs = fields[name].metadata.get("needs")
        if needs and getattr(instance, needs[0]) not in needs[1]:
            shown = getattr(instance, needs[0])
            raise Problem(prefix + name, f"has no effect with {needs[0]} = {json_text(shown)}",
                          f"no `{name}`, or {needs[0]} = " + " | ".join(map(json_text, needs[1])), table[name])
    check = getattr(instance, "check", None)
    if check is not None:
        try:
            check(limits)
        except Problem as problem:
            problem.key = prefix + problem.key if problem.key else key
            raise
    return instance


def json_text(value: Any) -> str:
    return f'"{value}"' if isinstance(value, str) else str(value)


def to_preset_error(problem: Problem, source: str) -> PresetError:
    return PresetError(source, problem.key, problem.problem, expected=problem.expected,
                       found=problem.found, hint=problem.hint)
