"""`studio remix`: new presets from old ones (files or PNGs this tool wrote), merged, overridden,
swept over values; always validated before anything is written."""

from __future__ import annotations

import itertools
import os
import re
from pathlib import Path

from studio.errors import PresetError
from studio.output.files import read_png_text, write_text
from studio.output.video import read_video_preset
from studio.preset.loader import (
    MAX_PRESET_BYTES,
    Document,
    _merge,
    apply_override,
    dumps,
    load_document,
    parse_override,
    parse_toml,
    validate,
)

MAX_VARIANTS = 1000  # presets one sweep may write
PATH_KEYS = {"input", "style", "probe", "images", "dataset", "name", "weights"}  # keys that may name files


CARRIERS = {".png": ("PNG", "text chunk `studio-preset`"), ".mp4": ("MP4", "comment tag")}


def read_any(path: Path) -> Document:
    """A preset document from a TOML file (extends resolved), or the whole preset a PNG (text
    chunk ``studio-preset``) or MP4 (comment tag) written by studio carries."""
    kind = CARRIERS.get(path.suffix.lower())
    if kind is None:
        return load_document(path)
    if not path.is_file():
        raise PresetError(str(path), "", "no such file")
    try:
        text = read_png_text(path) if kind[0] == "PNG" else read_video_preset(path)
    except Exception as error:
        raise PresetError(str(path), "", f"not a readable {kind[0]} ({error})") from None
    if not text:
        raise PresetError(str(path), "", f"this {kind[0]} carries no studio preset",
                          expected=f"a file written by studio ({kind[1]})")
    try:
        data = parse_toml(text, str(path))
    except PresetError as error:
        raise PresetError(str(path), "", f"its preset is not valid TOML: {error.problem}") from None
    return Document(data, str(path), {(): str(path)})


def leading_comments(path: Path) -> str:
    """The comment block that opens a TOML base (its description of itself), kept in the remix."""
    if path.suffix.lower() != ".toml":
        return ""
    lines = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if not line.startswith("#"):
            break
        lines.append(line + "\n")
    return "".join(lines)


KEY_LINE = re.compile(r"\s*([A-Za-z0-9_-]+)\s*=")
HEADER_LINE = re.compile(r"\s*(\[\[?)\s*([A-Za-z0-9_.-]+)\s*\]\]?")


def _inline_comment(line: str) -> str:
    """The ``# ...`` ending a TOML line, outside strings ('' when none)."""
    quote = None
    for index, char in enumerate(line):
        if quote:
            if char == quote:
                quote = None
        elif char in "\"'":
            quote = char
        elif char == "#":
            return line[index:].rstrip()
    return ""


class _Tables:
    """Follows ``[table]`` and ``[[array]]`` headers: the current table as a path with indices."""

    def __init__(self):
        self.path: tuple = ()
        self.counts: dict[str, int] = {}

    def enter(self, match) -> tuple:
        brackets, name = match.groups()
        if brackets == "[[":
            self.counts[name] = self.counts.get(name, -1) + 1
            self.path = (name, self.counts[name])
        elif name.split(".")[0] in self.counts:  # a sub-table of the latest array element
            head, *rest = name.split(".")
            self.path = (head, self.counts[head], *rest)
        else:
            self.path = tuple(name.split("."))
        return self.path


def key_comments(path: Path) -> dict[tuple, tuple[list[str], str]]:
    """Comments of a TOML file by the key or table they belong to: (lines above, inline)."""
    if path.suffix.lower() != ".toml":
        return {}
    found, above, tables, in_header = {}, [], _Tables(), True
    for line in path.read_text(encoding="utf-8").splitlines():
        stripped = line.strip()
        if stripped.startswith("#"):
            if not in_header:
                above.append(stripped)
            continue
        in_header = in_header and not stripped
        if not stripped:
            above = []
            continue
        in_header = False
        header, key = HEADER_LINE.match(line), KEY_LINE.match(line)
        if header:
            found[("table", tables.enter(header))] = (above, _inline_comment(line))
        elif key:
            found[(tables.path, key.group(1))] = (above, _inline_comment(line))
        above = []
    return found


def with_comments(text: str, comments: dict) -> str:
    """Put the base's comments back beside the same keys and tables of the remixed TOML."""
    if not comments:
        return text
    out, tables, depth = [], _Tables(), 0
    for line in text.splitlines():
        header, key = HEADER_LINE.match(line), KEY_LINE.match(line)
        found = None
        if depth == 0 and header and line.lstrip().startswith("["):
            found = comments.get(("table", tables.enter(header)))
        elif depth == 0 and key:
            found = comments.get((tables.path, key.group(1)))
        if found:
            above, inline = found
            out.extend(above)
            single_line = line.count('"""') != 1 and line.count("[") == line.count("]")
            line = f"{line}  {inline}" if inline and single_line else line
        depth += line.count('"""') % 2 if depth == 0 else -(line.count('"""') % 2)
        out.append(line)
    return "\n".join(out) + "\n"


def split_values(text: str) -> list[str]:
    """Split ``a,b,[c,d]`` at top-level commas (not inside brackets or quotes)."""
    parts, depth, quote, current = [], 0, None, ""
    for char in text:
        if quote:
            quote = None if char == quote else quote
        elif char in "\"'":
            quote = char
        elif char in "[{":
            depth += 1
        elif char in "]}":
            depth -= 1
        elif char == "," and depth == 0:
            parts.append(current)
            current = ""
            continue
        current += char
    return parts + [current]


def label(value) -> str:
    """A value as a piece of a preset name: ``0.02`` → ``0-02``, ``[1, 2]`` → ``1-2``."""
    text = re.sub(r"[^a-z0-9_]+", "-", str(value).lower()).strip("-")
    return text[:24] or "x"


def rebased(data, origins: dict, fallback: Path, output: Path, path: tuple = ()):
    """``data`` with every relative path that names a file beside the preset it came from
    rewritten relative to ``output``'s folder, so the remix reads the same files wherever it is
    written (a render reads relative paths from the preset's own folder)."""
    if isinstance(data, dict):
        return {key: rebased(value, origins, fallback, output, path + (key,)) for key, value in data.items()}
    if isinstance(data, list):
        return [rebased(value, origins, fallback, output, path + (index,)) for index, value in enumerate(data)]
    named = path[-1] if path and isinstance(path[-1], str) else path[-2] if len(path) > 1 else None
    if (named not in PATH_KEYS or (named == "name" and path[0] != "model") or not isinstance(data, str) or not data
            or ":" in data.split("/")[0] or Path(data).is_absolute()):
        return data
    origin = next((origins[path[:end]] for end in range(len(path), -1, -1) if path[:end] in origins), None)
    origin = Path(origin) if origin and Path(origin).suffix.lower() == ".toml" else fallback
    source = origin.parent / data
    if not source.exists() or origin.parent.resolve() == output.parent.resolve():
        return data
    return Path(os.path.relpath(source.resolve(), output.parent.resolve())).as_posix()


def remix_name(name: str, parents: set) -> str:
    """A remix's own name: ``x-remix``, then ``x-remix-2``, ... (never ``x-remix-remix``)."""
    stem = re.sub(r"-remix(-\d+)?$", "", name)
    if stem == name and name not in parents:
        return name
    number = int(re.search(r"-remix-(\d+)$", name)[1]) + 1 if re.search(r"-remix-(\d+)$", name) else 2
    return f"{stem}-remix" if stem == name else f"{stem}-remix-{number}"


def remix(sources: list[Path], overrides: list[str], sweeps: list[str], output: Path) -> list[Path]:
    """Write the remixed preset(s); returns the files written."""
    document = read_any(sources[0])
    parents = {document.data.get("preset", {}).get("name")}
    for other in sources[1:]:
        extra = read_any(other)
        parents.add(extra.data.get("preset", {}).get("name"))
        document.data = _merge(document.data, extra.data, document.origins, extra.source)
    for text in overrides:
        parts, value = parse_override(text)
        apply_override(document, parts, value)
    axes = []
    for text in sweeps:
        key, sep, values = text.partition("=")
        if not sep or not values:
            raise PresetError("--sweep", "", "expected KEY=V1,V2,...", found=repr(text))
        axes.append([(key.strip(), f"{key.strip()}={v}") for v in split_values(values)])
    count = 1
    for axis in axes:
        count *= len(axis)
    if count > MAX_VARIANTS:  # refused before a single preset is built
        raise PresetError("--sweep", "", "too many combinations", expected=f"at most {MAX_VARIANTS} presets",
                          found=" × ".join(str(len(axis)) for axis in axes) + f" = {count}")
    combos = list(itertools.product(*axes)) if axes else [()]
    base_name = document.data.get("preset", {}).get("name", "remix")
    written: list[Path] = []
    for combo in combos:
        variant = Document(_merge({}, document.data, {}, ""), document.source, dict(document.origins))
        suffix = []
        for key, assignment in combo:
            parts, value = parse_override(assignment, "--sweep")
            apply_override(variant, parts, value, "--sweep")
            suffix.append(f"{label(parts[-1])}{label(value)}")
        name = variant.data.setdefault("preset", {}).get("name", base_name)
        if name in parents or suffix:
            variant.data["preset"]["name"] = "-".join([remix_name(name, parents) if not suffix else name] + suffix)
        if suffix:  # a member of a sweep says which it is
            values = ", ".join(assignment for _, assignment in combo)
            variant.data["preset"]["title"] = f"{variant.data['preset'].get('title') or name} ({values})"
        variant.data = rebased(variant.data, variant.origins, sources[0], output)
        try:
            preset = validate(variant)
        except PresetError as error:
            if suffix and error.key == "preset.name":
                raise PresetError("--sweep", "preset.name", f"the name studio made for a variant, "
                                  f"`{variant.data['preset']['name']}`, is not valid ({error.problem})",
                                  hint="give the base preset a shorter name") from None
            raise
        target = output if not suffix else output.with_name(f"{output.stem}-{'-'.join(suffix)}{output.suffix}")
        header = leading_comments(sources[0]) + "# remixed by studio from " + ", ".join(
            str(s) for s in sources) + "\n"
        text = header + with_comments(dumps(preset), key_comments(sources[0]))
        if len(text.encode()) > MAX_PRESET_BYTES:  # it could never be read back
            raise PresetError(str(target), "", "the remixed preset is too large to read back",
                              expected=f"at most {MAX_PRESET_BYTES} bytes", found=f"{len(text.encode())} bytes")
        written.append((target, text))
    for target, text in written:
        write_text(target, text)
    return [target for target, _ in written]
