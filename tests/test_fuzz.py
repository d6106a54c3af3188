"""Fuzzing the loader and validator: whatever the document, the outcome is a valid preset or one
clean PresetError (never another exception)."""

import dataclasses

import tomli_w
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from studio.errors import PresetError
from studio.preset import loads
from studio.preset.loader import Document, validate
from studio.preset.schema import ModelSpec, OutputSpec, PresetInfo
from studio.scenes import KINDS, section_class

SCENE_KINDS = {kind: section_class(kind) for kind in KINDS}

KEYS = sorted({f.name for cls in list(SCENE_KINDS.values()) + [PresetInfo, ModelSpec, OutputSpec]
               for f in dataclasses.fields(cls)} | {"points", "label_noise", "period"})
scalars = st.one_of(st.integers(-10**6, 10**12), st.floats(allow_nan=True, allow_infinity=True),
                    st.booleans(), st.text(max_size=12), st.sampled_from(list(SCENE_KINDS) + ["all", "0:4", "fft"]))
values = st.recursive(scalars, lambda inner: st.one_of(st.lists(inner, max_size=4),
                                                      st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
                      max_leaves=12)
scene = st.dictionaries(st.sampled_from(KEYS + ["kind"]), values, max_size=8).map(
    lambda d: d if "kind" in d else {**d, "kind": "dream"})
documents = st.fixed_dictionaries({
    "preset": st.one_of(st.fixed_dictionaries({"name": st.sampled_from(["ok", "Bad Name", ""])},
                                              optional={"seed": values, "device": values}), values),
    "scenes": st.one_of(st.lists(scene, max_size=3), values),
}, optional={"model": st.dictionaries(st.sampled_from(["name", "weights", "x"]), values),
             "output": st.dictionaries(st.sampled_from(KEYS), values, max_size=4),
             "extra": values})


def _sane(field):
    """Values a field's own default suggests (often valid, sometimes not)."""
    default = field.default if field.default is not dataclasses.MISSING else None
    options = [default] if default is not None and not dataclasses.is_dataclass(default) else []
    if isinstance(default, bool):
        options.append(not default)
    elif isinstance(default, int):
        options += [default + 1, max(default * 2, 1)]
    elif isinstance(default, float):
        options += [default / 2, default + 0.5]
    elif isinstance(default, tuple):
        options = [list(default)]
    return st.sampled_from(options) if options else st.just("blocks.1")


def plausible_scene(kind):
    cls = SCENE_KINDS[kind]
    fields = [f for f in dataclasses.fields(cls) if f.name not in ("kind", "name", "layer", "layers")
              and not dataclasses.is_dataclass(f.default_factory() if f.default_factory is not dataclasses.MISSING else None)]
    extra = st.fixed_dictionaries({}, optional={f.name: _sane(f) for f in fields})
    return extra.map(lambda d: {**d, "kind": kind, "layer": "blocks.1"} if kind not in ("train", "atlas")
                     else {**d, "kind": kind})


plausible = st.fixed_dictionaries({
    "preset": st.just({"name": "ok"}),
    "scenes": st.lists(st.sampled_from(sorted(SCENE_KINDS)).flatmap(plausible_scene), min_size=1, max_size=3),
})


def outcome(document):
    try:
        return validate(Document(document, "fuzz.toml", {(): "fuzz.toml"}))
    except PresetError as error:
        assert str(error).startswith("fuzz.toml") or str(error).startswith("--")
        return error


@settings(max_examples=1000, deadline=None, derandomize=True, suppress_health_check=[HealthCheck.too_slow])
@given(documents)
def test_any_document_validates_or_fails_cleanly(document):
    outcome(document)


@settings(max_examples=300, deadline=None)
@given(st.text(max_size=200))
def test_any_text_loads_or_fails_cleanly(text):
    try:
        loads(text, "fuzz.toml")
    except PresetError:
        pass


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(plausible)
def test_valid_presets_round_trip_through_toml(document):
    result = outcome(document)
    if not isinstance(result, PresetError):
        again = loads(tomli_w.dumps(result.resolved), "fuzz.toml")
        assert again.scenes == result.scenes and again.preset == result.preset


@settings(max_examples=500, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(st.text(max_size=40), max_size=3))
def test_any_set_override_applies_or_fails_cleanly(overrides):
    from studio.preset.loader import apply_override, parse_override

    document = Document({"preset": {"name": "ok"}, "scenes": [{"kind": "probe", "layer": "blocks.1"},
                                                              {"kind": [], "name": ["x"]}]},
                        "fuzz.toml", {(): "fuzz.toml"})
    try:
        for text in overrides:
            apply_override(document, *parse_override(text))
        validate(document)
    except PresetError:
        pass


nesting = st.tuples(st.integers(1, 6000), st.sampled_from(["[", "{a = "]), st.sampled_from(["x", "scenes.0.size"]))


@settings(max_examples=60, deadline=None, derandomize=True)
@given(nesting)
def test_any_depth_of_nesting_is_a_value_or_one_message(shape):
    depth, opener, key = shape
    closer = "]" if opener == "[" else "}"
    value = opener * depth + ("1" if opener != "[" else "") + closer * depth
    text = f'{key.split(".")[0]} = {value}\n' if key == "x" else ""
    document = '[preset]\nname = "ok"\n' + text + '[[scenes]]\nkind = "probe"\nlayer = "blocks.1"\n'
    try:
        loads(document, "fuzz.toml")
    except PresetError as error:
        assert str(error).startswith("fuzz.toml")
    from studio.preset.loader import parse_override

    try:
        parse_override(f"{key}={value}")
    except PresetError as error:
        assert "nests too deeply" in str(error)


@settings(max_examples=200, deadline=None, derandomize=True)
@given(st.text(alphabet="abcdefghijklmnopqrstuvwxyz0123456789-_.é/ ", min_size=0, max_size=600),
       st.sampled_from(["preset.name", "scenes.0.name"]))
def test_any_name_is_valid_and_short_enough_for_a_file_system_or_refused(name, where):
    document = {"preset": {"name": "ok"}, "scenes": [{"kind": "probe", "layer": "blocks.1"}]}
    if where == "preset.name":
        document["preset"]["name"] = name
    else:
        document["scenes"][0]["name"] = name
    result = outcome(document)
    if not isinstance(result, PresetError):
        chosen = result.name if where == "preset.name" else result.scenes[0].name
        assert 1 <= len(chosen) <= 100 and "/" not in chosen and "." not in chosen
