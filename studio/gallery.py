"""`studio gallery`: render every preset of a folder (skipping those already up to date) and
write a self-contained index.html that plays the MP4s and shows the stills."""

from __future__ import annotations

import hashlib
import html
import json
from dataclasses import dataclass
from pathlib import Path

from studio import __version__
from studio.errors import ModelError, StudioError
from studio.output.files import write_text
from studio.preset import Preset, dumps, load_preset

FINGERPRINT = ".studio-fingerprint"


def fingerprint(preset: Preset) -> str:
    """What a render depends on: the resolved preset and the renderer's version."""
    return hashlib.sha256(f"{__version__}\n{dumps(preset)}".encode()).hexdigest()


def is_fresh(preset: Preset, out: Path) -> bool:
    folder = out / preset.name
    stamp = folder / FINGERPRINT
    return (stamp.is_file() and (folder / "log.json").is_file()
            and stamp.read_text().strip() == fingerprint(preset))


@dataclass
class GalleryEntry:
    preset: Preset
    status: str  # rendered | fresh | skipped | failed
    note: str = ""


def build(presets_dir: Path, out: Path, quiet: bool = False, force: bool = False) -> list[GalleryEntry]:
    from studio.progress import progress_bar

    from studio.render import render_preset

    entries = []
    paths = sorted(presets_dir.glob("*.toml"))
    progress = progress_bar(len(paths), "gallery", quiet, unit="preset")
    for path in paths:
        progress.update(1)
        preset = load_preset(path)
        if not force and is_fresh(preset, out):
            entries.append(GalleryEntry(preset, "fresh"))
            continue
        try:
            render_preset(preset, out, quiet=True, resume=not force)
        except ModelError as error:  # weights not on this machine: the rest still renders
            entries.append(GalleryEntry(preset, "skipped", str(error).split(":")[0]))
            continue
        except StudioError as error:
            entries.append(GalleryEntry(preset, "failed", str(error)))
            continue
        write_text(out / preset.name / FINGERPRINT, fingerprint(preset) + "\n")
        entries.append(GalleryEntry(preset, "rendered"))
    progress.close()
    write_text(out / "index.html", page([e for e in entries if e.status in ("rendered", "fresh")], out))
    return entries


STYLE = """
body{background:#101014;color:#e0e0e6;font:15px/1.45 system-ui,sans-serif;margin:0 auto;max-width:1200px;padding:24px}
h1{font-weight:600}section{border-top:1px solid #303038;padding:18px 0}
h2{margin:0 0 4px}p.meta{color:#9090a0;font-size:13px;margin:0 0 10px}
.media{display:flex;flex-wrap:wrap;gap:10px;align-items:flex-start}
.media img,.media video{max-height:260px;max-width:100%;background:#000;border-radius:4px}
details{margin-top:10px}pre{background:#181820;padding:10px;overflow:auto;font-size:12px}
button{background:#303040;color:#e0e0e6;border:1px solid #505060;border-radius:4px;padding:3px 10px;cursor:pointer}
"""

SCRIPT = """
function copyPreset(id){const text=document.getElementById(id).textContent;
 if(navigator.clipboard){navigator.clipboard.writeText(text)}else{const t=document.createElement('textarea');
 t.value=text;document.body.appendChild(t);t.select();document.execCommand('copy');t.remove()}}
"""


def page(entries: list[GalleryEntry], out: Path) -> str:
    """The contact sheet: relative links only, so it works from file:// and offline."""
    sections = []
    for index, entry in enumerate(entries):
        preset = entry.preset
        folder = out / preset.name
        log = json.loads((folder / "log.json").read_text())
        seconds = sum(s.get("seconds", 0) for s in log["scenes"].values())
        media = []
        for name, scene in log["scenes"].items():
            if scene.get("video"):
                src = html.escape(f"{preset.name}/{scene['video']['file']}")
                media.append(f'<video src="{src}" muted loop autoplay playsinline controls preload="metadata" '
                             f'title="{html.escape(name)}"></video>')
            stills = [still["file"] for still in scene.get("stills", [])]
            main = [file for file in stills if "/" not in file] or stills[-1:]  # <scene>.png
            for file in main[:1]:
                src = html.escape(f"{preset.name}/{file}")
                media.append(f'<a href="{src}"><img src="{src}" loading="lazy" alt="{html.escape(name)}"></a>')
        toml_text = html.escape(dumps(preset))
        sections.append(
            f'<section id="{html.escape(preset.name)}"><h2>{html.escape(preset.preset.title or preset.name)}</h2>'
            f'<p class="meta">{html.escape(preset.name)} · {html.escape(log["device"])} · {seconds:.1f} s · '
            f'{html.escape(preset.model.name)}</p><p>{html.escape(preset.preset.description)}</p>'
            f'<div class="media">{"".join(media)}</div>'
            f'<details><summary>preset</summary><button onclick="copyPreset(\'toml-{index}\')">copy</button>'
            f'<pre id="toml-{index}">{toml_text}</pre></details></section>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>studio gallery</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style>'
            f'<script>{SCRIPT}</script></head><body><h1>studio gallery</h1>'
            f'<p class="meta">{len(entries)} presets · studio {__version__}</p>{"".join(sections)}</body></html>\n')
