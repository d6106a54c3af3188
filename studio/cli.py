"""The command line: `studio render | validate | models | layers | presets`."""

from __future__ import annotations

import os
import sys
import traceback
from pathlib import Path

import click

from studio.errors import StudioError
from studio.version import __version__


def finite(_context, _parameter, value):
    """Refuse nan and inf where a number of gigabytes is asked for."""
    import math

    if value is not None and not math.isfinite(value):
        raise click.BadParameter(f"{value} is not a finite number of GB")
    return value


SET_HELP = "override a key with a TOML value: scenes.0.steps=40, model.name=vgg16 (repeatable)"


def fail(error: BaseException) -> None:
    """One paragraph and an exit status; the traceback only with STUDIO_DEBUG=1."""
    if os.environ.get("STUDIO_DEBUG"):
        traceback.print_exception(error)
    if isinstance(error, KeyboardInterrupt):
        from studio.errors import INTERRUPTED

        click.echo(INTERRUPTED, err=True, nl=False)
        sys.exit(130)
    prefix = "invalid preset" if getattr(error, "exit_code", 1) == 2 else "error"
    click.echo(f"{prefix}: {error}", err=True)
    sys.exit(getattr(error, "exit_code", 1))


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="studio")
def main():
    """studio: render what neural networks see, from TOML presets."""


def _load_all(presets, overrides, fixed, raise_limits=None):
    from studio.preset import Limits, load_preset

    limits = Limits(raise_limits or 1)
    return [load_preset(p, list(overrides), fixed, limits) for p in presets], limits


@main.command()
@click.argument("presets", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), help="output root (default: output.dir)")
@click.option("--device", help="auto | cpu | cuda | cuda:N (overrides preset.device)")
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--quiet", "-q", is_flag=True, help="no progress bars or summary")
@click.option("--draft", is_flag=True, help="a quick look: small sizes, few steps, into <name>-draft/")
@click.option("--memory-limit", type=click.FloatRange(min=0.1), metavar="GB", callback=finite,
              help="memory a scene may plan to use (default: what the machine has free)")
@click.option("--raise-limits", type=click.IntRange(min=1), metavar="N",
              help="multiply the preset ceilings (px per side, steps, frames, channels...) by N")
@click.option("--no-resume", "--force", "no_resume", is_flag=True,
              help="render every scene again, even those already rendered and unchanged")
def render(presets, out, device, overrides, quiet, draft, memory_limit, raise_limits, no_resume):
    """Render PRESET files into OUT/<preset name>/."""
    interrupt_on_sigterm()
    results = _render_all(presets, out, device, overrides, quiet, draft, no_resume, memory_limit, raise_limits)
    if not quiet:
        for result in results:
            click.echo(f"\n{result.preset}  ({result.device})  -> {result.folder}")
            for scene, seconds in result.seconds.items():
                if scene in result.cached:
                    click.echo(f"  {scene:<20}  cached   unchanged since the last render (--force to redo)")
                    continue
                files = [p.name for s, p in result.written if s == scene]
                shown = ", ".join(files[:4]) + (f", +{len(files) - 4} more" if len(files) > 4 else "")
                resumed = f"  (resumed: {result.resumed[scene]} parts reused)" if scene in result.resumed else ""
                click.echo(f"  {scene:<20} {seconds:7.1f} s  {shown}{resumed}")


def _render_all(presets, out, device, overrides, quiet, draft, no_resume, memory_limit, raise_limits):
    try:
        from studio.errors import interrupted
        from studio.preset.draft import make_draft
        from studio.rendering import render_preset

        loaded, limits = _load_all(presets, overrides, {"preset.device": device} if device else None, raise_limits)
        interrupted()  # a Ctrl-C pressed while the imports ran
        if draft:
            loaded = [make_draft(preset, limits) for preset in loaded]
        announce = None if quiet else (lambda line: click.echo(line, err=True))
        from studio.distributed import render_team, world_size

        if world_size() > 1:  # under torchrun: this process's share, then process 0 assembles
            return render_team(loaded, out, quiet, not no_resume, memory_limit, announce)
        return [render_preset(preset, out, quiet, resume=not no_resume, memory_limit_gb=memory_limit,
                              announce=announce) for preset in loaded]
    except (StudioError, KeyboardInterrupt) as error:
        fail(error)


def interrupt_on_sigterm() -> None:
    """SIGTERM (a batch system stopping us) is handled like Ctrl-C: clean up, exit 130."""
    import signal

    def handler(signum, _frame):
        from studio.errors import PRESSED

        PRESSED.append(signum)
        raise KeyboardInterrupt

    if hasattr(signal, "SIGTERM"):
        signal.signal(signal.SIGTERM, handler)


@main.command()
@click.argument("presets", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--device", help="auto | cpu | cuda | cuda:N (overrides preset.device)")
@click.option("--quick", is_flag=True, help="only the preset's structure: keys, types, bounds (no model is loaded)")
@click.option("--memory-limit", type=click.FloatRange(min=0.1), metavar="GB", callback=finite,
              help="memory a scene may plan to use (as `render --memory-limit`)")
@click.option("--raise-limits", type=click.IntRange(min=1), metavar="N",
              help="multiply the preset ceilings by N (as `render --raise-limits`)")
def validate(presets, overrides, device, quick, memory_limit, raise_limits):
    """Check PRESET files as `render` would before its first step, without rendering: the
    keys, and (unless --quick) the device, model, weights, layers, channels, images and memory.
    Exit 2 on the first invalid one."""
    try:
        loaded = _load_all(presets, overrides, {"preset.device": device} if device else None, raise_limits)[0]
        for preset in loaded:
            kinds = ", ".join(f"{s.name} ({s.kind})" for s in preset.scenes)
            if quick:
                click.echo(f"ok  {preset.source}: {preset.name}: {kinds}")
                continue
            from studio.rendering import check_preset, estimate

            scenes = check_preset(preset, memory_limit)
            click.echo(f"ok  {preset.source}: {preset.name}: {kinds}")
            for section, scene in zip(preset.scenes, scenes):
                click.echo(f"      {section.name}: {estimate(scene)}")
    except StudioError as error:
        fail(error)


@main.command()
@click.argument("sources", nargs=-1, required=True, type=click.Path(dir_okay=False, path_type=Path))
@click.option("--set", "overrides", multiple=True, metavar="KEY=VALUE", help=SET_HELP)
@click.option("--sweep", "sweeps", multiple=True, metavar="KEY=V1,V2",
              help="one preset per value; several sweeps make their cross product")
@click.option("-o", "--output", required=True, type=click.Path(dir_okay=False, path_type=Path),
              help="the new preset file (sweeps add a suffix per combination)")
def remix(sources, overrides, sweeps, output):
    """Merge presets (TOML files, or PNGs and MP4s studio wrote: each carries the whole preset it
    came from, all its scenes, not only the scene in the picture), later ones winning; apply
    --set and --sweep; write NEW.toml (validated first)."""
    try:
        from studio.remix import remix as run_remix

        for path in run_remix(list(sources), list(overrides), list(sweeps), output):
            click.echo(f"wrote {path}")
    except StudioError as error:
        fail(error)


@main.command()
@click.option("--presets", "presets_dir", type=click.Path(file_okay=False, path_type=Path), default=Path("presets"),
              show_default=True, help="the folder of presets to render")
@click.option("--out", type=click.Path(file_okay=False, path_type=Path), default=Path("gallery"), show_default=True,
              help="where the renders and index.html go")
@click.option("--force", is_flag=True, help="render even presets whose outputs are up to date")
@click.option("--web", is_flag=True, help="for a page to put online: big stills open as full-resolution "
              "JPEGs (quality 92) instead of their PNGs")
@click.option("--quiet", "-q", is_flag=True, help="no progress bar or summary")
def gallery(presets_dir, out, force, web, quiet):
    """Render every preset in --presets into --out, and write --out/index.html."""
    try:
        from studio.gallery import build

        entries = build(presets_dir, out, quiet, force, web)
    except (StudioError, KeyboardInterrupt) as error:
        fail(error)
    if not quiet:
        for entry in entries:
            click.echo(f"  {entry.name:<36} {entry.status:<9} {entry.note[:90]}")
        click.echo(f"-> {out / 'index.html'}")
    if any(e.status == "failed" for e in entries):
        sys.exit(1)


@main.command()
def models():
    """Model names, and whether their weights are available offline right now."""
    from studio.models import FEATURED, availability

    for name in FEATURED:
        click.echo(f"{name:<20} {availability(name)}")
    click.echo("\nAny torchvision classifier name works too, as does a checkpoint path "
               "({\"arch\": NAME, \"state_dict\": ...}); weights = \"none\" gives random weights.")


@main.command()
@click.argument("model")
@click.option("--depth", type=int, default=None, help="only paths with at most this many dots")
def layers(model, depth):
    """Module paths, aliases and output shapes of MODEL (random weights; nothing is downloaded)."""
    try:
        from studio.models import describe_layers
        from studio.models.zoo import build_architecture, default_input_size, is_checkpoint_path, load_model

        if is_checkpoint_path(model):
            loaded = load_model(model, source="<command line>")
            module, size = loaded.module, loaded.input_size
        else:
            module, size = build_architecture(model, "<command line>"), default_input_size(model)
        rows = describe_layers(module, size)
    except StudioError as error:
        fail(error)
    click.echo(f"{model}: input 3×{size[0]}×{size[1]}")
    click.echo(f"{'path':<40} {'type':<24} {'output':<16} alias")
    for path, kind, shape, alias in rows:
        if depth is None or path.count(".") <= depth:
            click.echo(f"{path:<40} {kind:<24} {shape:<16} {alias}")


SHIPPED = Path(__file__).resolve().parent / "presets"


@main.command("presets")
@click.option("--dir", "folder", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="the folder to list  [default: ./presets if there is one, else the presets that ship "
                   "with studio]")
def list_presets(folder):
    """The presets in a folder, with their titles and scenes."""
    from studio.preset import load_preset

    if folder is None:
        folder = Path("presets") if Path("presets").is_dir() else SHIPPED
    paths = sorted(folder.glob("*.toml"))
    if not paths:
        click.echo(f"no presets (*.toml) in {folder}; the ones that ship with studio are in {SHIPPED}", err=True)
        sys.exit(2)
    click.echo(f"{folder}:")
    for path in paths:
        try:
            preset = load_preset(path)
            kinds = ", ".join(s.kind for s in preset.scenes)
            click.echo(f"{path.name:<36} {preset.preset.title or preset.name}  [{kinds}]")
        except StudioError as error:
            click.echo(f"{path.name:<36} INVALID: {error}")
