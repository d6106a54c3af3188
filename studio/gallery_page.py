"""The gallery's index.html: a table of contents, every preset's pictures and videos at a
readable size, each openable at full size, descriptions rendered from markdown, and the presets
this machine could not render, with the reason. Self-contained (inline CSS and script, relative
links), so it works from ``file://`` and offline."""

from __future__ import annotations

import html
import json
from dataclasses import dataclass
from pathlib import Path

from studio.preset import Preset, dumps
from studio.version import __version__

PREVIEW_SIDE = 1600          # stills larger than this (or than PREVIEW_BYTES) get a JPEG preview
PREVIEW_BYTES = 1_500_000
PREVIEWS = "previews"        # <preset>/previews/<still path>.jpg
WIDE = 2.2                   # width/height past which a picture takes a whole row
FILM_WIDTH = 960             # videos this wide or wider are films: a whole row
FILM_SECONDS = 15            # films this long open the page


@dataclass
class Listed:
    """A preset as the page shows it: rendered (with its folder) or not, with the reason.
    ``preset`` is None for a file that is not a valid preset (``source`` names it)."""

    preset: Preset | None
    rendered: bool
    reason: str = ""
    source: str = ""

    @property
    def title(self) -> str:
        return (self.preset.preset.title or self.preset.name) if self.preset else self.source

    @property
    def name(self) -> str:
        return self.preset.name if self.preset else self.source


class LogError(ValueError):
    """A log.json the page cannot trust: the page lists its preset as not rendered, with this."""


def _expect(value, kind, where: str, what: str):
    if not isinstance(value, kind) or isinstance(value, bool):
        raise LogError(f"`{where}`: expected {what}, found {json.dumps(value)[:60]}")
    return value


def _size(value, where: str) -> list[int]:
    if not (isinstance(value, list) and len(value) == 2 and all(isinstance(v, int) and not isinstance(v, bool)
                                                                 and 0 < v < 100_000 for v in value)):
        raise LogError(f"`{where}`: expected [width, height] in pixels, found {json.dumps(value)[:60]}")
    return value


def _file(value, where: str) -> str:
    _expect(value, str, where, "a file name")
    parts = Path(value).parts
    if not parts or Path(value).is_absolute() or ".." in parts or ":" in value or "\\" in value:
        raise LogError(f"`{where}`: expected a file inside the preset's folder, found {json.dumps(value)[:60]}")
    return value


def read_log(path: Path) -> dict:
    """A preset's log.json, its every value the page shows checked for type (the page escapes
    text; numbers and sizes must be numbers; files must lie inside the folder).

    Raises:
        LogError: one message naming the key and what was found.
    """
    try:
        log = json.loads(path.read_text())
    except (OSError, UnicodeDecodeError, ValueError) as error:
        raise LogError(f"not readable JSON ({error})") from None
    _expect(log, dict, "log", "an object")
    _expect(log.get("device", ""), str, "device", "text")
    for name, scene in _expect(log.get("scenes"), dict, "scenes", "an object of scenes").items():
        _expect(scene, dict, f"scenes.{name}", "an object")
        _expect(scene.get("seconds", 0), (int, float), f"scenes.{name}.seconds", "a number")
        for index, still in enumerate(_expect(scene.get("stills", []), list, f"scenes.{name}.stills", "a list")):
            where = f"scenes.{name}.stills.{index}"
            _expect(still, dict, where, "an object")
            _file(still.get("file"), f"{where}.file")
            _size(still.get("size"), f"{where}.size")
        if scene.get("video") is not None:
            video = _expect(scene["video"], dict, f"scenes.{name}.video", "an object")
            _file(video.get("file"), f"scenes.{name}.video.file")
            _size(video.get("size"), f"scenes.{name}.video.size")
            _expect(video.get("frames"), int, f"scenes.{name}.video.frames", "a count of frames")
            _expect(video.get("fps", 1), (int, float), f"scenes.{name}.video.fps", "frames per second")
    return log


def model_label(preset: Preset) -> str:
    """The networks a preset really uses: a small net a `train` scene builds is not the
    preset's `[model]`."""
    names: list[str] = []
    for scene in preset.scenes:
        name = scene.network(preset.model.name)
        if name not in names:
            names.append(name)
    return ", ".join(names)


def description_html(text: str) -> str:
    """Markdown to HTML; raw HTML in a preset is shown as text, never run."""
    from markdown_it import MarkdownIt

    return MarkdownIt("commonmark", {"html": False}).render(text or "")


def _jpeg(folder: Path, file: str, suffix: str, side: int | None, quality: int) -> str:
    """A JPEG copy of a still under ``previews/`` (at most ``side`` px, None: full size),
    made again only when the still is newer; returns its path relative to ``folder``."""
    from PIL import Image

    path, name = folder / file, f"{PREVIEWS}/{file}{suffix}"
    target = folder / name
    if not path.is_file() and target.is_file():  # a published gallery keeps the JPEGs, not the PNGs
        return name
    if not target.is_file() or target.stat().st_mtime < path.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        with Image.open(path) as picture:
            copy = picture.convert("RGB")
        if side:
            copy.thumbnail((side, side * 4))
        copy.save(target, "JPEG", quality=quality, optimize=True)
    return name


def is_big(folder: Path, file: str) -> bool:
    from PIL import Image

    path = folder / file
    if not path.is_file():  # published (``--web``) without its PNG: only its JPEGs remain
        return True
    with Image.open(path) as picture:
        return path.stat().st_size > PREVIEW_BYTES or max(picture.size) > PREVIEW_SIDE


def preview(folder: Path, file: str) -> str:
    """The picture the page shows for a still: itself, or a JPEG preview for a big one."""
    return _jpeg(folder, file, ".jpg", PREVIEW_SIDE, 88) if is_big(folder, file) else file


def full_size(folder: Path, file: str, web: bool = False) -> str:
    """What "full size" opens: the still itself or, for a page to put online (``web``), a big
    still as a full-resolution JPEG (quality 92), a fifth of the PNG's weight."""
    return _jpeg(folder, file, ".full.jpg", None, 92) if web and is_big(folder, file) else file


def last_frame(folder: Path, file: str) -> str | None:
    """A JPEG of a video's last frame under ``previews/`` (its poster: the film as it ends, in the
    film's own shape), made again when the video is newer; None when it cannot be made."""
    import subprocess

    import imageio_ffmpeg

    video, name = folder / file, f"{PREVIEWS}/{file}.last.jpg"
    target = folder / name
    if not video.is_file():
        return name if target.is_file() else None
    if not target.is_file() or target.stat().st_mtime < video.stat().st_mtime:
        target.parent.mkdir(parents=True, exist_ok=True)
        done = subprocess.run([imageio_ffmpeg.get_ffmpeg_exe(), "-v", "error", "-y", "-sseof", "-0.5", "-i", str(video),
                               "-update", "1", "-q:v", "3", str(target)], capture_output=True, timeout=120)
        if done.returncode != 0 or not target.is_file():
            return None
    return name


def main_stills(scene: dict) -> list[dict]:
    """The scene's own still (not one of its several in a folder), else its last; none without."""
    stills = scene.get("stills", [])
    return [still for still in stills if "/" not in still["file"]] or stills[-1:]


def still_shape(width: int, height: int) -> str:
    """The figure's class beside ``still``: ``wide`` and ``big`` (high-resolution) take a row,
    ``tall`` is cut off at a height with a way to open it."""
    return (" wide" if width > WIDE * height else " tall" if height > 1.6 * width
            else " big" if max(width, height) > PREVIEW_SIDE else "")


def figure(preset: Preset, folder: Path, name: str, scene: dict, web: bool = False) -> str:
    """One scene: its video (with its still as the poster) or its main still, and a caption."""
    main = main_stills(scene)
    base = html.escape(preset.name)
    caption = html.escape(name)
    if scene.get("video"):
        video = scene["video"]
        last = last_frame(folder, video["file"])
        poster = (f' poster="{base}/{html.escape(last)}"' if last else
                  f' poster="{base}/{html.escape(preview(folder, main[0]["file"]))}"' if main else "")
        link = (f' · <a class="zoom" href="{base}/{html.escape(last)}">last frame</a>' if last else
                f' · <a class="zoom" href="{base}/{html.escape(full_size(folder, main[0]["file"], web))}">still</a>'
                if main else "")
        width, height = video["size"]
        film = " film" if width >= FILM_WIDTH else ""  # a film gets a row of its own, at its size or more
        seconds = duration(video)
        # the box keeps the film's shape whatever the poster's (the browser would size it by the poster)
        shape = f"aspect-ratio:{width}/{height}" + (f";width:min(100%,calc(85vh*{width}/{height}))" if film else "")
        # no controls over the picture until the pointer is on it (the page's script adds them)
        return (f'<figure class="video{film}"><video src="{base}/{html.escape(video["file"])}"{poster} muted loop '
                f'playsinline preload="metadata" width="{width}" height="{height}" style="{shape}"></video>'
                f'<figcaption>{caption} · {video["frames"]} frames, {width}x{height}, {seconds:.1f} s'
                f'{link}</figcaption></figure>')
    if not main:
        return ""
    still = main[0]
    width, height = still["size"]
    shape = still_shape(width, height)
    full = f"{base}/{html.escape(full_size(folder, still['file'], web))}"
    return (f'<figure class="still{shape}"><a class="zoom frame" href="{full}">'
            f'<img src="{base}/{html.escape(preview(folder, still["file"]))}" loading="lazy" '
            f'width="{width}" height="{height}" alt="{caption}"></a>'
            f'<figcaption>{caption} · {width}x{height}</figcaption></figure>')


def duration(video: dict) -> float:
    return video["frames"] / max(video.get("fps") or 1, 1)


def rank(log: dict) -> int:
    """Where a preset stands on the page: 0 with a film (a video 960 px wide or more and 15 s or
    longer), 1 with a high-resolution still, 2 with a shorter wide video (all three take a whole
    row), 3 otherwise (a card)."""
    videos = [scene["video"] for scene in log["scenes"].values() if scene.get("video")]
    wide = [video for video in videos if video["size"][0] >= FILM_WIDTH]
    if any(duration(video) >= FILM_SECONDS for video in wide):
        return 0
    if any(max(still["size"]) > PREVIEW_SIDE for scene in log["scenes"].values() for still in scene.get("stills", [])):
        return 1
    return 2 if wide else 3


def section(index: int, listed: Listed, out: Path, log: dict, web: bool = False) -> str:
    """One rendered preset (``log``: its log.json): a card, or a whole row."""
    preset = listed.preset
    folder = out / preset.name
    seconds = sum(s.get("seconds", 0) for s in log["scenes"].values())
    figures = [figure(preset, folder, name, scene, web) for name, scene in log["scenes"].items()]
    media = "".join(figures)
    # a card of its own column, or a whole row for films, big stills and many pictures
    wide = any(still_shape(*still["size"]) == " wide" for scene in log["scenes"].values() if not scene.get("video")
               for still in main_stills(scene))
    full = " full" if rank(log) < 3 or wide or len([f for f in figures if f]) > 2 else ""
    title = html.escape(preset.preset.title or preset.name)
    return (f'<section class="card{full}" id="{html.escape(preset.name)}"><h2>{title}</h2>'
            f'<p class="meta">{html.escape(preset.name)} · {html.escape(model_label(preset))} · '
            f'{html.escape(log["device"])} · {seconds:.1f} s</p>'
            f'<div class="about">{description_html(preset.preset.description)}</div>'
            f'<div class="media">{media}</div>'
            f'<details><summary>preset</summary><button onclick="copyPreset(\'toml-{index}\')">copy</button>'
            f'<pre id="toml-{index}">{html.escape(dumps(preset))}</pre></details></section>')


STYLE = """
*{box-sizing:border-box}
body{background:#101014;color:#e0e0e6;font:15px/1.5 system-ui,sans-serif;margin:0 auto;max-width:1400px;padding:24px}
a{color:#9cc4ff}h1{font-weight:600;margin:0 0 4px}section{border-top:1px solid #303038;padding:22px 0}
h2{margin:0 0 4px}p.meta{color:#9090a0;font-size:13px;margin:0 0 8px}.about{max-width:80ch}
nav ol{columns:3 260px;padding-left:1.4em;font-size:14px}nav li{break-inside:avoid}
main{display:grid;grid-template-columns:repeat(auto-fill,minmax(320px,1fr));gap:0 28px;grid-auto-flow:dense}
.card{min-width:0}.card.full{grid-column:1/-1}
.media{display:grid;grid-template-columns:1fr;gap:16px;margin-top:12px}
.full .media{grid-template-columns:repeat(auto-fill,minmax(320px,1fr))}
figure{margin:0;min-width:0}.full figure.wide,.full figure.big,.full figure.film{grid-column:1/-1}
figure.film video{height:auto;margin:0 auto}
.big .frame{background:none}.big .frame img{max-height:85vh;object-fit:contain}
figcaption{color:#9090a0;font-size:13px;margin-top:4px}
.frame{display:block;position:relative;overflow:hidden;border-radius:4px;background:#000}
.frame img{display:block;width:100%;height:auto}
.tall .frame{max-height:640px}.tall .frame::after{content:"open full size";position:absolute;left:0;right:0;
bottom:0;padding:40px 0 8px;text-align:center;font-size:13px;background:linear-gradient(transparent,#101014)}
figure video{display:block;width:100%;height:auto;background:#000;border-radius:4px;object-fit:contain}
details{margin-top:12px}pre{background:#181820;padding:10px;overflow:auto;font-size:12px;max-width:100%}
button{background:#303040;color:#e0e0e6;border:1px solid #505060;border-radius:4px;padding:3px 10px;cursor:pointer}
dialog{padding:0;border:0;background:#000;max-width:100vw;max-height:100vh;width:100vw;height:100vh;overflow:auto}
dialog img{display:block;margin:auto;max-width:none}dialog::backdrop{background:#000d}
dialog p{position:sticky;top:0;margin:0;padding:6px 12px;background:#101014e0;font-size:13px}
.skipped{border-top:1px solid #303038;padding:22px 0}.skipped summary{font-size:1.3em;font-weight:600;cursor:pointer}
.skipped li{margin:4px 0}
@media (max-width:600px){body{padding:12px}.media{grid-template-columns:1fr}}
"""

SCRIPT = """
function copyPreset(id){const text=document.getElementById(id).textContent;
 if(navigator.clipboard){navigator.clipboard.writeText(text)}else{const t=document.createElement('textarea');
 t.value=text;document.body.appendChild(t);t.select();document.execCommand('copy');t.remove()}}
document.addEventListener('DOMContentLoaded',()=>{const seen=new IntersectionObserver(entries=>entries.forEach(e=>{
 if(e.isIntersecting){e.target.play().catch(()=>{})}else{e.target.pause()}}),{threshold:0.25});
 document.querySelectorAll('video').forEach(v=>{seen.observe(v);
  v.addEventListener('mouseenter',()=>{v.controls=true});v.addEventListener('mouseleave',()=>{v.controls=false});
  v.addEventListener('touchstart',()=>{v.controls=true},{passive:true})})});
addEventListener('hashchange',()=>{if(location.hash==='#not-rendered'){document.getElementById('not-rendered').open=true}});
document.addEventListener('click',e=>{const a=e.target.closest('a.zoom');const box=document.getElementById('lightbox');
 if(a&&box.showModal){e.preventDefault();box.querySelector('img').src=a.href;box.querySelector('a').href=a.href;
 box.showModal();box.scrollTo(0,0)}else if(e.target.closest('dialog')&&!e.target.closest('dialog a')){box.close()}});
"""


def page(listed: list[Listed], out: Path, web: bool = False) -> str:
    """The whole page: contents, one section per rendered preset, then what was not rendered.
    ``web``: big stills open as full-resolution JPEGs (see :func:`full_size`)."""
    logs, listed = {}, list(listed)
    for place, item in enumerate(listed):
        if item.rendered:
            try:
                logs[item.name] = read_log(out / item.name / "log.json")
            except LogError as error:
                listed[place] = Listed(item.preset, False, f"its log.json is broken: {error}", item.source)
    rendered = [item for item in listed if item.rendered]
    def weight(log):  # the biggest, then the longest first
        videos = [s["video"] for s in log["scenes"].values() if s.get("video")]
        return max([(v["size"][0], duration(v)) for v in videos] + [(0, 0.0)])

    widest = {name: weight(log) for name, log in logs.items()}
    # films (the biggest and longest first), then big stills, then shorter wide videos, then cards
    rendered.sort(key=lambda item: (rank(logs[item.name]), -widest[item.name][0], -widest[item.name][1]))
    missing = [item for item in listed if not item.rendered]
    contents = "".join(f'<li><a href="#{html.escape(i.name)}">{html.escape(i.title)}</a></li>' for i in rendered)
    if missing:
        contents += '<li><a href="#not-rendered">Not rendered on this machine</a></li>'
    body = "".join(section(index, item, out, logs[item.name], web) for index, item in enumerate(rendered))
    if missing:
        rows = "".join(f'<li><strong>{html.escape(i.title)}</strong> '
                       f'({html.escape(i.name + (", " + model_label(i.preset) if i.preset else ""))}): '
                       f'{html.escape(i.reason)}</li>' for i in missing)
        body += (f'<details id="not-rendered" class="skipped card full"><summary>Not rendered on this machine '
                 f'({len(missing)})</summary><p class="meta">Their presets ship; each says why it is not here.'
                 f'</p><ul>{rows}</ul></details>')
    return (f'<!doctype html><html lang="en"><head><meta charset="utf-8"><title>studio gallery</title>'
            f'<meta name="viewport" content="width=device-width,initial-scale=1"><style>{STYLE}</style>'
            f'<script>{SCRIPT}</script></head><body><h1>studio gallery</h1>'
            f'<p class="meta">{len(rendered)} presets rendered · {len(missing)} not rendered here · studio '
            f'{__version__} · click any picture for full size</p><nav><ol>{contents}</ol></nav><main>{body}</main>'
            f'<dialog id="lightbox"><p><a href="#">open the file</a> · click anywhere to close</p><img alt="">'
            f'</dialog></body></html>\n')
