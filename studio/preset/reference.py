"""The preset format reference (``docs/presets.md``), generated from the schema itself: every
table, every kind and every key with its type, default and bounds, so the document cannot
drift from what the validator accepts (a test compares them).

``python -m studio.preset.reference > docs/presets.md`` writes it.
"""

from __future__ import annotations

import dataclasses
import importlib
import typing

from studio.preset.coerce import expectation
from studio.preset.meanings import field_meanings
from studio.preset.schema import ModelSpec, OutputSpec, PresetInfo


def _default(field: dataclasses.Field) -> str:
    if field.default is not dataclasses.MISSING:
        value = field.default
    elif field.default_factory is not dataclasses.MISSING:
        return "(table)"
    else:
        return "required"
    if value is None:
        return "—"
    if isinstance(value, tuple) and field.metadata.get("reversed"):
        value = value[::-1]  # shown as the preset writes it
    if isinstance(value, str):
        return f'`"{value}"`'
    if isinstance(value, bool):
        return f"`{str(value).lower()}`"
    if isinstance(value, tuple):
        return "`[" + ", ".join(map(str, value)) + "]`"
    return f"`{value}`"


def _bounds(field: dataclasses.Field) -> str:
    meta = field.metadata
    parts = []
    if "min" in meta:
        parts.append(f"≥ {meta['min']}")
    if "below" in meta:
        parts.append(f"< {meta['below']}")
    if "max" in meta:
        parts.append(f"≤ {meta['max']:,}" if isinstance(meta["max"], int) else f"≤ {meta['max']}")
    return ", ".join(parts)


def table(cls: type, prefix: str = "") -> list[str]:
    """Markdown rows of a dataclass's keys, each with the meaning written beside its field
    (``prefix``: the table's name)."""
    hints = typing.get_type_hints(cls)
    meanings = field_meanings(cls)
    rows = ["| key | accepts | default | bounds | meaning |", "|---|---|---|---|---|"]
    for field in dataclasses.fields(cls):
        if field.name == "kind" and not prefix.endswith("schedule"):
            continue  # a scene's kind heads its section
        accepts = expectation(hints[field.name]).replace("|", "\\|")
        if field.metadata.get("reversed"):
            accepts = "[width, height]"
        rows.append(f"| `{field.name}` | {accepts} | {_default(field)} | {_bounds(field)} | {meanings.get(field.name, '')} |")
    return rows


def reference() -> str:
    """The whole reference as markdown."""
    from studio.scenes import KINDS

    lines = ["# Preset reference", "",
             "Generated from studio's schema (`python -m studio.preset.reference > docs/presets.md`); a test "
             "keeps it equal to what the validator accepts. A preset is TOML: the tables below, then one "
             "`[[scenes]]` table per scene with a `kind`. Unknown keys are refused with a \"did you mean\". "
             "`extends = \"base.toml\"` merges another preset under this one (tables merge, arrays replace). "
             "Sizes are written `[width, height]`.", ""]
    for title, cls in (("preset", PresetInfo), ("model", ModelSpec), ("output", OutputSpec)):
        lines += [f"## `[{title}]`", "", *table(cls, title), ""]
    lines += ["## Scenes", "", "Every scene takes `kind` (required) and `name` (its output stem; default: "
              "the kind, then kind-2, kind-3, ...).", ""]
    for kind, module_path in KINDS.items():
        module = importlib.import_module(module_path)
        summary = " ".join((module.__doc__ or "").strip().split("\n\n")[0].split())
        lines += [f"### `{kind}`", "", summary, "", *table(module.Section, kind), ""]
        for name, hint in typing.get_type_hints(module.Section).items():
            if dataclasses.is_dataclass(hint):
                lines += [f"`[scenes.{name}]`:", "", *table(hint, name), ""]
    return "\n".join(lines).rstrip() + "\n"


if __name__ == "__main__":
    print(reference(), end="")
