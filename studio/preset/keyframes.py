"""Keyframe schedules, written the way Deforum and Disco Diffusion write them:
``"0:(1.02), 120:(1.0)"``: a value per frame from ``frame:(value)`` pairs.

- Between two keyframes the value moves linearly; before the first keyframe it is the first
  value, after the last the last. A plain number (TOML's, or a string with no ``frame:``) is the
  same on every frame.
- A value may be an expression in ``t``, the frame index: ``"0:(1.02 + 0.01*sin(2*pi*t/48))"``.
  As in Deforum, an expression holds from its keyframe to the next one, evaluated at every frame;
  a number is a point the line passes through.
- Expressions take ``+ - * / ** %``, parentheses, numbers, ``t``, ``pi``, ``e`` and the functions
  in :data:`FUNCTIONS`. The text is parsed into Python's syntax tree and every node is checked
  against that list before anything is evaluated; it is never given to ``eval``. A name, an
  attribute, a string, a subscript or any other call is refused with the offending text.

Schedules are parsed and evaluated at validation (pure Python, no torch), so a value that
leaves its key's bounds at any frame is refused before a render starts, naming the frame.
"""

from __future__ import annotations

import ast
import math
import operator
import re
from collections.abc import Callable
from dataclasses import dataclass

from studio.preset.coerce import Problem

MAX_TEXT = 10_000      # characters in one schedule string
MAX_NODES = 500        # syntax-tree nodes in one expression
FUNCTIONS: dict[str, Callable[..., float]] = {
    "sin": math.sin, "cos": math.cos, "tan": math.tan, "abs": abs, "min": min, "max": max,
    "floor": math.floor, "ceil": math.ceil, "sqrt": math.sqrt, "exp": math.exp, "log": math.log,
}
CONSTANTS = {"pi": math.pi, "e": math.e}
OPERATORS = {ast.Add: operator.add, ast.Sub: operator.sub, ast.Mult: operator.mul, ast.Div: operator.truediv,
             ast.Pow: operator.pow, ast.Mod: operator.mod}
KEYFRAME = re.compile(r"\s*(\d+)\s*:\s*\(")
ALLOWED = "numbers, t, pi, e, + - * / ** %, parentheses and " + ", ".join(FUNCTIONS)

Value = float | str  # what a schedule key holds in a section: a number or the schedule's text


class FrameError(ArithmeticError):
    """A keyframe's value that cannot be computed at its own frame (met while drawing the line
    towards it)."""

    def __init__(self, frame: int, error: Exception):
        super().__init__(str(error))
        self.frame = frame


class ScheduleError(ValueError):
    """A schedule that cannot be read; ``text`` is the part at fault."""

    def __init__(self, problem: str, text: str):
        super().__init__(problem)
        self.problem, self.text = problem, text


def compile_expression(text: str) -> Callable[[float], float]:
    """An expression in ``t`` as a function of ``t``, after checking every node of its tree.

    Example:
        >>> compile_expression("1 + 0.5*sin(pi*t/2)")(1.0)
        1.5
        >>> compile_expression("__import__('os')")
        Traceback (most recent call last):
        ...
        studio.preset.keyframes.ScheduleError: a call to `__import__`
    """
    return _build(checked_tree(text).body)


def checked_tree(text: str) -> ast.Expression:
    """The syntax tree of an expression, every node checked against the whitelist."""
    if len(text) > MAX_TEXT:
        raise ScheduleError(f"longer than {MAX_TEXT} characters", text[:40] + "...")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError:
        raise ScheduleError("not an expression", text) from None
    except (RecursionError, MemoryError, ValueError):
        raise ScheduleError("nested too deeply", text[:40] + "...") from None
    nodes = 0
    for node in ast.walk(tree):
        nodes += 1
        if nodes > MAX_NODES:
            raise ScheduleError(f"more than {MAX_NODES} terms", text[:40] + "...")
        _check(node)
    return tree


def _check(node: ast.AST) -> None:
    if isinstance(node, (ast.Expression, ast.Load) + tuple(OPERATORS)) or isinstance(node, (ast.USub, ast.UAdd)):
        return
    if isinstance(node, ast.BinOp) and type(node.op) in OPERATORS:
        return
    if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
        return
    if isinstance(node, ast.Constant) and type(node.value) in (int, float):
        return
    if isinstance(node, ast.Name) and (node.id == "t" or node.id in CONSTANTS or node.id in FUNCTIONS):
        return
    if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id in FUNCTIONS \
            and not node.keywords and node.args:
        return
    what = {ast.Name: lambda n: f"the name `{n.id}`", ast.Attribute: lambda n: f"an attribute `.{n.attr}`",
            ast.Constant: lambda n: f"a {type(n.value).__name__} constant {n.value!r}"[:80],
            ast.Call: lambda n: f"a call to `{ast.unparse(n.func)[:40]}`"}.get(type(node))
    raise ScheduleError(what(node) if what else f"`{ast.unparse(node)[:40]}`" if isinstance(node, ast.expr)
                        else type(node).__name__, "") from None


def _build(node: ast.expr) -> Callable[[float], float]:
    """A closure over checked nodes; numbers become floats, so ``10**10**10`` overflows at
    once instead of building a huge integer."""
    if isinstance(node, ast.Constant):
        value = float(node.value)
        return lambda t: value
    if isinstance(node, ast.Name):
        if node.id == "t":
            return lambda t: t
        if node.id in CONSTANTS:
            value = CONSTANTS[node.id]
            return lambda t: value
        raise ScheduleError(f"the function `{node.id}` without its arguments", "")
    if isinstance(node, ast.UnaryOp):
        operand = _build(node.operand)
        return (lambda t: -operand(t)) if isinstance(node.op, ast.USub) else operand
    if isinstance(node, ast.BinOp):
        left, right, apply = _build(node.left), _build(node.right), OPERATORS[type(node.op)]
        return lambda t: apply(left(t), right(t))
    assert isinstance(node, ast.Call)  # _check let nothing else through
    function, arguments = FUNCTIONS[node.func.id], [_build(a) for a in node.args]
    return lambda t: float(function(*(a(t) for a in arguments)))


@dataclass(frozen=True)
class Keyframe:
    frame: int
    text: str
    value: Callable[[float], float]
    constant: bool  # a number the line passes through (no `t`)


def parse(value: Value) -> list[Keyframe]:
    """The keyframes of a schedule (a number is one keyframe at frame 0).

    Example:
        >>> [(k.frame, k.text) for k in parse("0:(1.02), 120:(1.0)")]
        [(0, '1.02'), (120, '1.0')]
    """
    if isinstance(value, (int, float)):
        number = float(value)
        return [Keyframe(0, repr(number), lambda t: number, True)]
    text = value.strip()
    if not KEYFRAME.match(text):  # one expression for every frame
        return [_keyframe(0, text)]
    keyframes, position = [], 0
    while position < len(text):
        found = KEYFRAME.match(text, position)
        if not found:
            raise ScheduleError("expected `frame:(value)`", text[position:position + 40])
        close = _closing_parenthesis(text, found.end())
        keyframes.append(_keyframe(int(found.group(1)), text[found.end():close]))
        position = close + 1
        rest = re.match(r"\s*(,|$)", text[position:])
        if not rest:
            raise ScheduleError("expected a comma between keyframes", text[position:position + 40])
        position += rest.end()
    frames = [k.frame for k in keyframes]
    if frames != sorted(set(frames)):
        raise ScheduleError("keyframes must be in increasing order, each frame once",
                            ", ".join(map(str, frames))[:80])
    return keyframes


def _closing_parenthesis(text: str, start: int) -> int:
    depth = 1
    for index in range(start, len(text)):
        depth += {"(": 1, ")": -1}.get(text[index], 0)
        if depth == 0:
            return index
    raise ScheduleError("an unclosed parenthesis", text[start - 1:start + 40])


def _keyframe(frame: int, text: str) -> Keyframe:
    tree = checked_tree(text)
    uses_t = any(isinstance(node, ast.Name) and node.id == "t" for node in ast.walk(tree))
    return Keyframe(frame, text.strip(), _build(tree.body), not uses_t)


def series(value: Value, frames: int) -> list[float]:
    """The value at every frame ``0 .. frames - 1``.

    Example:
        >>> series("0:(0), 4:(1)", 6)
        [0.0, 0.25, 0.5, 0.75, 1.0, 1.0]
        >>> series(2, 3)
        [2.0, 2.0, 2.0]
    """
    return list(_values(parse(value), frames))


def _values(keyframes: list[Keyframe], frames: int):
    current = 0
    for t in range(frames):
        while current + 1 < len(keyframes) and keyframes[current + 1].frame <= t:
            current += 1
        here = keyframes[current]
        if t < here.frame or current + 1 == len(keyframes) or not here.constant:
            number = here.value(t)
        else:  # a number: the line towards the next keyframe, as that keyframe stands there
            after = keyframes[current + 1]
            share = (t - here.frame) / (after.frame - here.frame)
            try:
                target = after.value(after.frame)
            except (ArithmeticError, ValueError, TypeError) as error:
                raise FrameError(after.frame, error) from None
            number = here.value(t) + share * (target - here.value(t))
        yield float(number)


def evaluate(value: Value, frames: int, key: str, low: float | None = None, high: float | None = None) -> list[float]:
    """:func:`series`, with every way it can fail as a :class:`Problem` naming ``key``: the text
    at fault, or the first frame whose value cannot be computed, is not finite or leaves
    ``[low, high]``.

    Example:
        >>> evaluate("0:(1), 10:(3)", 11, "zoom", 0.5, 2.0)
        Traceback (most recent call last):
        ...
        studio.preset.coerce.Problem: out of range at frame 6 (2.2)
    """
    try:
        keyframes = parse(value)
    except ScheduleError as error:
        found = error.text or (value if isinstance(value, str) else None)
        raise Problem(key, f"not a schedule: {error.problem}", '"frame:(value), ..." with ' + ALLOWED,
                      found[:200] if isinstance(found, str) else found) from None
    values: list[float] = []
    numbers = _values(keyframes, frames)
    while len(values) < frames:
        frame = len(values)
        try:
            number = next(numbers)
        except (ArithmeticError, ValueError, TypeError) as error:  # log(0), 1/0, 10.0**400 ...
            frame = getattr(error, "frame", frame)
            raise Problem(key, f"the schedule cannot be computed at frame {frame} ({error})",
                          "a value defined at every frame", value) from None
        if not math.isfinite(number):
            raise Problem(key, f"not a finite number at frame {frame}", "finite values", value)
        if low is not None and number < low or high is not None and number > high:
            raise Problem(key, f"out of range at frame {frame} ({number:.6g})",
                          f"values between {low:g} and {high:g} at every frame", value)
        values.append(number)
    return values


def scaled(value: Value, factor: float) -> Value:
    """The same schedule times ``factor`` (a draft's translations at its smaller size).

    Example:
        >>> scaled("0:(8), 10:(4*sin(t))", 0.25), scaled(8.0, 0.25)
        ('0:((8)*0.25), 10:((4*sin(t))*0.25)', 2.0)
    """
    if isinstance(value, (int, float)):
        return value * factor
    return ", ".join(f"{k.frame}:(({k.text})*{factor:g})" for k in parse(value))
