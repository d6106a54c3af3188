"""Read presets: TOML, `extends` chains, deep merge, `--set` overrides, validation.

Every value remembers the file it came from (``Document.origins``), so an error about a merged
preset names the file that holds the bad key, or ``--set`` when an override put it there.
"""

from __future__ import annotations

import copy
import dataclasses
import re
import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import tomli_w

from studio.errors import PresetError, did_you_mean
from studio.preset.coerce import Problem, build, to_preset_error
from studio.preset.limits import DEFAULT, Limits
from studio.preset.schema import ModelSpec, OutputSpec, Preset, PresetInfo, origin_of
from studio.scenes import KINDS, section_class

TOP_LEVEL = {"preset": PresetInfo, "model": ModelSpec, "output": OutputSpec}
KEY_ORDER = ("preset", "model", "output", "scenes")
MAX_PRESET_BYTES = 1 << 20
MAX_DEPTH = 16       # arrays and tables inside each other: presets need 4
MAX_KEY_PARTS = 16   # parts of a --set key path
# a key (or [table] header) at the start of a line with more parts than any preset can nest
_PART = r"""(?:[A-Za-z0-9_-]+|"[^"\n]*"|'[^'\n]*')"""
DOTTED_KEY = re.compile(rf"^[ \t]*\[*[ \t]*{_PART}(?:[ \t]*\.[ \t]*{_PART}){{{MAX_DEPTH},}}", re.MULTILINE)


@dataclass
class Document:
    """A merged preset document before validation."""

    data: dict
    source: str
    origins: dict[tuple, str] = field(default_factory=dict)
    chain: tuple[str, ...] = ()

    def origin(self, key: str) -> str:
        return origin_of(self.origins, key, self.source)


def read_text(path: Path, label: str, limit: int = MAX_PRESET_BYTES) -> str:
    """A small regular file's UTF-8 text: never a FIFO or device (they would hang or never
    end), never more than ``limit`` bytes, whatever ``stat`` claims."""
    import stat

    try:
        mode = path.stat().st_mode
        if stat.S_ISDIR(mode):
            raise PresetError(label, "", "is a folder, not a preset file")
        if not stat.S_ISREG(mode):
            raise PresetError(label, "", "is not a regular file (a pipe, device or socket)",
                              expected="a .toml file")
        with open(path, "rb") as handle:
            data = handle.read(limit + 1)
    except FileNotFoundError:
        raise PresetError(label, "", "no such file") from None
    except OSError as error:
        raise PresetError(label, "", f"cannot be read ({error.strerror})") from None
    if len(data) > limit:
        raise PresetError(label, "", "file too large for a preset", expected=f"at most {limit} bytes")
    if data.startswith(b"\xef\xbb\xbf"):
        raise PresetError(label, "", "starts with a UTF-8 byte-order mark (BOM)",
                          hint="save the file as UTF-8 without BOM")
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as error:
        raise PresetError(label, "", f"not UTF-8 text (byte {error.start})") from None


TRIPLE_D, TRIPLE_S = '"' * 3, "'" * 3


def syntax_hint(text: str, error: Exception) -> str | None:
    """What a TOML syntax error usually means, where tomllib's words do not say it: a string
    never closed."""
    found = re.search(r"line (\d+)", str(error))
    lines = text.splitlines()
    if "Unterminated string" not in str(error) and "Illegal character '\\n'" not in str(error):
        return None
    if found and 0 < int(found[1]) <= len(lines):
        return f"the string on line {found[1]} is never closed: end it with its quote on the same line"
    for number, line in enumerate(lines, 1):  # at the end of the document: a multi-line string left open
        if TRIPLE_D in line or TRIPLE_S in line:
            opened = number
    return (f"a multi-line string opened on line {opened} is never closed" if "opened" in locals() else
            "a string is never closed")


def parse_toml(text: str, label: str) -> dict:
    """``tomllib.loads`` with one message for every way a document can be too much."""
    deep = DOTTED_KEY.search(text)
    if deep:  # refused before parsing: tomllib builds a table per part, slowly and without bound
        line = text.count("\n", 0, deep.start()) + 1
        raise PresetError(label, "", "a dotted key nests tables too deeply", expected=f"at most {MAX_DEPTH} levels",
                          found=f"a key of {deep[0].count('.') + 1}+ parts on line {line}")
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as error:
        raise PresetError(label, "", f"TOML syntax error: {error}", hint=syntax_hint(text, error)) from None
    except RecursionError:
        data = None
    if data is None or depth(data) > MAX_DEPTH:
        raise PresetError(label, "", "arrays or tables nested too deeply", expected=f"at most {MAX_DEPTH} levels")
    return data


def depth(value) -> int:
    """How deeply arrays and tables nest in ``value`` (without recursion: any depth is safe)."""
    deepest, todo = 0, [(value, 0)]
    while todo:
        item, level = todo.pop()
        if isinstance(item, dict):
            item = list(item.values())
        if isinstance(item, list):
            deepest = max(deepest, level + 1)
            if deepest > MAX_DEPTH:
                return deepest
            todo += [(child, level + 1) for child in item]
    return deepest


def read_toml(path: Path, label: str) -> dict:
    return parse_toml(read_text(path, label), label)


def _merge(base: dict, over: dict, origins: dict, source: str, prefix: tuple = ()) -> dict:
    merged = dict(base)
    for key, value in over.items():
        path = prefix + (key,)
        if isinstance(value, dict) and isinstance(merged.get(key), dict):
            merged[key] = _merge(merged[key], value, origins, source, path)
        else:
            merged[key] = copy.deepcopy(value)
            for old in [p for p in origins if p[:len(path)] == path]:
                del origins[old]
            origins[path] = source
    return merged


def deep_merge(base: dict, over: dict) -> dict:
    """``over`` wins; tables merge key by key; arrays (the scene list too) are replaced whole."""
    return _merge(base, over, {}, "")


def load_document(path: str | Path, _chain: tuple[str, ...] = ()) -> Document:
    path = Path(path)
    label = str(path)
    try:
        resolved = str(path.resolve())
    except (RuntimeError, OSError):  # Python 3.11 raises RuntimeError for a link loop
        raise PresetError(label, "", "cannot be read (a loop of symbolic links)") from None
    if resolved in _chain:
        cycle = " -> ".join([Path(p).name for p in _chain] + [path.name])
        raise PresetError(label, "extends", "`extends` forms a cycle", found=cycle)
    data = read_toml(path, label)
    base_name = data.pop("extends", None)
    if base_name is None:
        return Document(data, label, {(): label}, _chain + (resolved,))
    if not isinstance(base_name, str):
        raise PresetError(label, "extends", "wrong type", expected="a path to another preset",
                          found=repr(base_name))
    base_path = (path.parent / base_name)
    if not base_path.is_file():
        raise PresetError(label, "extends", "no such preset to extend", found=str(base_path))
    base = load_document(base_path, _chain + (resolved,))
    origins = dict(base.origins)
    merged = _merge(base.data, data, origins, label)
    return Document(merged, label, origins, base.chain)


def parse_override(text: str, source: str = "--set") -> tuple[list[str], Any]:
    """``KEY.PATH=VALUE`` with a TOML value; a bare word is a string."""
    key, sep, raw = text.partition("=")
    key = key.strip()
    if not sep or not key:
        raise PresetError(source, "", "expected KEY=VALUE", found=repr(text),
                          hint='for example --set scenes.0.steps=40 or --set model.name=vgg16')
    parts = key.split(".", MAX_KEY_PARTS)
    if len(parts) > MAX_KEY_PARTS:
        raise PresetError(source, key[:60] + "...", "key path too long", expected=f"at most {MAX_KEY_PARTS} parts")
    if any(not p.strip() for p in parts):
        raise PresetError(source, key, "empty part in the key path", found=repr(key))
    try:
        value = tomllib.loads(f"value = {raw}")["value"]
        if depth(value) > MAX_DEPTH:
            raise RecursionError
    except RecursionError:
        raise PresetError(source, key, "the value nests too deeply", expected=f"at most {MAX_DEPTH} levels") from None
    except tomllib.TOMLDecodeError as error:
        if raw.strip().startswith(("[", "{", '"', "'")):  # meant as TOML: say what is wrong with it
            reason = str(error).split(" (at ")[0]
            raise PresetError(source, key, f"the value is not valid TOML ({reason})", found=raw.strip(),
                              hint="arrays look like [1, 2] or [\"a\", \"b\"]; quote strings with \"") from None
        value = raw.strip()  # a bare word is a string
    return [p.strip() for p in parts], value


def _scene_index(scenes: list, part: str, key: str, source: str) -> int:
    if part.isdigit():
        index = int(part)
        if index >= len(scenes):
            raise PresetError(source, key, "no such scene", expected=f"an index below {len(scenes)}",
                              found=part)
        return index
    def text(scene, key):  # positions kept: index i is scene i
        value = scene.get(key) if isinstance(scene, dict) else None
        return value if isinstance(value, str) else None

    names = [text(s, "name") for s in scenes]
    kinds = [text(s, "kind") for s in scenes]
    if part in names:
        return names.index(part)
    if kinds.count(part) == 1:
        return kinds.index(part)
    raise PresetError(source, key, "no scene by that index, name or kind",
                      expected="an index, a scene name or the kind of one scene", found=part,
                      hint=did_you_mean(part, [n for n in names + kinds if n]))


def apply_override(document: Document, parts: list[str], value: Any, source: str = "--set") -> None:
    data, key = document.data, ".".join(parts)
    if parts[0] not in KEY_ORDER and isinstance(data.get("scenes"), list):
        names = {s.get("name") for s in data["scenes"] if isinstance(s, dict) and isinstance(s.get("name"), str)}
        kinds = {s.get("kind") for s in data["scenes"] if isinstance(s, dict) and isinstance(s.get("kind"), str)}
        if parts[0] in names | kinds:
            parts = ["scenes"] + parts
        elif parts[0] != "extends":
            scenes = [s for s in data["scenes"] if isinstance(s, dict)]
            listed = ", ".join(f"{s.get('name') or s.get('kind')} ({s.get('kind')})" for s in scenes)
            raise PresetError(source, key, "no top-level key or scene by that name",
                              expected=f"{', '.join(KEY_ORDER)}, or a scene's name or kind: {listed}",
                              found=parts[0],
                              hint=did_you_mean(parts[0], [*KEY_ORDER, *sorted(n for n in names | kinds if n)]))
    node, path = data, []
    for depth, part in enumerate(parts):
        last = depth == len(parts) - 1
        if isinstance(node, list):
            index = (_scene_index(node, part, key, source) if path == ["scenes"]
                     else int(part) if part.isdigit() and int(part) < len(node) else None)
            if index is None:
                raise PresetError(source, key, "no such array element",
                                  expected=f"an index below {len(node)}", found=part)
            part = index
        elif not isinstance(node, dict):
            raise PresetError(source, key, f"`{'.'.join(map(str, path))}` is not a table", found=repr(node))
        path.append(part)
        if last:
            node[part] = value
        else:
            if isinstance(node, dict) and part not in node:
                node[part] = {}
                document.origins[tuple(path)] = source
            node = node[part]
    document.origins[tuple(path)] = source


def validate(document: Document, limits: Limits = DEFAULT) -> Preset:
    """Typed, checked sections from a merged document (``limits``: the ceilings in force)."""
    data = document.data
    try:
        for key in data:
            if key not in KEY_ORDER:
                raise Problem(key, "unknown top-level key", None, None,
                              did_you_mean(key, KEY_ORDER + ("extends",)) or
                              "valid: " + ", ".join(KEY_ORDER + ("extends",)))
        if "preset" not in data:
            raise Problem("preset.name", "required key is missing", "a [preset] table with a name", None)
        tables = {k: build(cls, data.get(k, {}), k, limits) for k, cls in TOP_LEVEL.items()}
        scenes = data.get("scenes")
        if not isinstance(scenes, list) or not scenes:
            raise Problem("scenes", "no scenes", "one or more [[scenes]] tables", scenes)
        built = []
        for index, table in enumerate(scenes):
            key = f"scenes.{index}"
            if not isinstance(table, dict):
                raise Problem(key, "wrong type", "a table", table)
            kind = table.get("kind")
            if not isinstance(kind, str) or kind not in KINDS:
                raise Problem(key + ".kind", "missing" if kind is None else "unknown scene kind",
                              "one of " + ", ".join(KINDS), kind,
                              did_you_mean(kind, KINDS) if isinstance(kind, str) else None)
            built.append(build(section_class(kind), table, key, limits))
        built = name_scenes(built)
    except Problem as problem:
        raise to_preset_error(problem, document.origin(problem.key)) from None
    return Preset(tables["preset"], tables["model"], tables["output"], tuple(built),
                  source=document.source, resolved=ordered(data), extends=document.chain[1:],
                  origins=dict(document.origins))


def name_scenes(scenes: list) -> list:
    """Unnamed scenes are called after their kind: dream, dream-2, dream-3, ..."""
    taken: set[str] = set()
    for index, scene in enumerate(scenes):
        if scene.name is not None:
            if scene.name in taken:
                raise Problem(f"scenes.{index}.name", "two scenes share this name",
                              "a name unique in the preset", scene.name)
            taken.add(scene.name)
    named = []
    for scene in scenes:
        if scene.name is None:
            name, n = scene.kind, 1
            while name in taken:
                n += 1
                name = f"{scene.kind}-{n}"
            taken.add(name)
            scene = dataclasses.replace(scene, name=name)
        named.append(scene)
    return named


def ordered(data: dict) -> dict:
    return {k: data[k] for k in KEY_ORDER if k in data}


def load_preset(path: str | Path, overrides: list[str] = (),
                fixed: dict[str, Any] | None = None, limits: Limits = DEFAULT) -> Preset:
    """Load, merge and validate a preset file.

    Args:
        path: the preset's TOML file.
        overrides: ``KEY=VALUE`` strings as given to ``--set``, applied in order.
        fixed: command-line options that set a key (``{"preset.device": "cpu"}``), applied last.
        limits: the ceilings in force (``--raise-limits``).
    """
    document = load_document(path)
    for text in overrides:
        parts, value = parse_override(text)
        apply_override(document, parts, value)
    for key, value in (fixed or {}).items():
        apply_override(document, key.split("."), value, source=f"--{key.split('.')[-1]}")
    return validate(document, limits)


SHORT_ARRAY = re.compile(r"\[\n((?:[ ]+[^\[\]\n]+,\n)+)[ ]*\]")


def _one_line_arrays(text: str, width: int = 80) -> str:
    """tomli_w writes every array one item a line; short ones read better on one line, as
    people write them (``size = [64, 48]``). Innermost first, so nested pairs collapse too."""
    def collapse(match):
        items = [item.strip().rstrip(",") for item in match.group(1).splitlines()]
        joined = "[" + ", ".join(items) + "]"
        return joined if len(joined) <= width else match.group(0)

    while True:
        collapsed = SHORT_ARRAY.sub(collapse, text)
        if collapsed == text:
            return text
        text = collapsed


def dumps(preset_or_data: Preset | dict) -> str:
    """Tidy TOML of a preset: tables in the contract's order, short arrays on one line."""
    data = preset_or_data.resolved if isinstance(preset_or_data, Preset) else preset_or_data
    return _one_line_arrays(tomli_w.dumps(ordered(data)))


def loads(text: str, source: str = "<text>") -> Preset:
    data = parse_toml(text, source)
    data.pop("extends", None)
    return validate(Document(data, source, {(): source}))
