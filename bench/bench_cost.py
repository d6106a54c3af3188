"""Cost curves: seconds per step of a `maximize` climb with the default keys (fft, jitter,
rotation, scale) against pixels (one image, 128² to 2048²) and against channels per batch (1 to
64 at 128²), with the bare forward+backward of the same network beside it, so a user can
predict a render before starting it: steps × seconds per step.

Prints the table (target: every step within 1.2 × the bare forward+backward) and, with --plot,
saves both curves as one PNG. A climb's one-off work (its parameterisation's start, the final
picture) is measured apart, as a climb of no steps, and shown in its own column: a render of 64
steps pays it once.
Usage: python bench/bench_cost.py [--device cpu] [--layer blocks.3] [--sides 128 256 ...]
       [--batches 1 4 ...] [--plot docs/cost-curves.png] [--pairs N]
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parent))
from studio.models import LayerTap, load_model  # noqa: E402
from studio.optimize import Ascent, objectives  # noqa: E402
from studio.optimize.loop import autocast  # noqa: E402
from studio.scenes.maximize import Section  # noqa: E402
from studio.scenes.support.optimizing import ascent_settings  # noqa: E402

from common import figure, save_figure, sync  # noqa: E402

TARGET = 1.2
MEGA = 1 << 20


def per_step(model, device, layer: str, batch: int, side: int, pairs: int | None = None) -> tuple[float, float, float]:
    """(bare, climb, setup) seconds at ``batch`` × ``side``²: a step of each, and what a climb
    costs once whatever its steps (the parameterisation's start, the final picture).

    The two steps are timed in pairs, side by side: after every step of one climb (timed from the
    end of the previous one, so the climb's own loop is all in it) one bare forward+backward runs
    and is timed. This machine's speed wanders within a second, so a ratio of two neighbours is
    steady where a ratio of two separate runs is not. The bare step is the median of the bare
    steps, the climb's is that times the median of the pairs' ratios; the first pair (which
    still holds the climb's start) is left out, and the start is timed apart as a climb of no
    steps."""
    pairs = pairs or max(10, min(48, round(24 * (512 * 512) / (batch * side * side))))
    tap = LayerTap(model, [layer])
    channels = tap(torch.zeros(1, 3, 64, 64, device=device))[layer].shape[1]
    objective = objectives.channel(layer, torch.arange(batch, device=device) % channels)
    images = torch.rand(batch, 3, side, side, generator=torch.Generator().manual_seed(0)).to(device)

    def bare_step() -> float:
        started = time.perf_counter()
        x = images.clone().requires_grad_(True)
        with autocast(device):  # as the climb runs the network: bf16 on a GPU
            loss = -objective(tap(x)).float().sum()
        loss.backward()
        sync(device)
        return time.perf_counter() - started

    def climb(steps: int, on_step=lambda n: None) -> float:
        settings = ascent_settings(Section(kind="maximize", steps=steps))
        started = time.perf_counter()
        Ascent(model, objective, settings, torch.Generator().manual_seed(0), on_step).run(images, [(side, side)])
        sync(device)
        return time.perf_counter() - started

    bare_step()
    climb(1)
    timed: list[tuple[float, float]] = []
    last = [0.0]

    def beside(_count: int) -> None:
        sync(device)
        climbed = time.perf_counter() - last[0]
        timed.append((climbed, bare_step()))
        last[0] = time.perf_counter()

    last[0] = time.perf_counter()
    climb(pairs + 1, beside)
    timed = timed[1:]
    setup = min(climb(0) for _ in range(3))
    bare = statistics.median(b for _, b in timed)
    return bare, bare * statistics.median(c / b for c, b in timed), setup


def plot(rows_by_side, rows_by_batch, path: Path, title: str) -> None:
    from matplotlib.ticker import FuncFormatter, LogLocator, NullFormatter

    drawn, (left, right) = figure(2, (11, 4.2))
    for axes, rows, label, unit in ((left, rows_by_side, "pixels (one image)", "px"),
                                    (right, rows_by_batch, "channels per batch (128² each)", "")):
        xs = [row[0] for row in rows]
        axes.plot(xs, [row[2] for row in rows], "o-", label="studio step (defaults)")
        axes.plot(xs, [row[1] for row in rows], "s--", label="bare forward+backward")
        for x, bare, climb in rows:
            axes.annotate(f"×{climb / bare:.2f}", (x, climb), textcoords="offset points", xytext=(0, 9),
                          ha="center", fontsize=8, color="C0")
        axes.set_xscale("log", base=2)
        axes.margins(x=0.08, y=0.15)  # room for the ratios above the first and last points
        axes.set_yscale("log")
        axes.yaxis.set_major_locator(LogLocator(base=10, subs=(1, 2, 5)))
        axes.yaxis.set_major_formatter(FuncFormatter(lambda value, _: f"{value:g} s"))
        axes.yaxis.set_minor_formatter(NullFormatter())
        axes.set_xlabel(label)
        axes.set_ylabel("seconds per step")
        axes.grid(True, which="both", alpha=0.3)
        axes.legend()
        if unit:
            axes.set_xticks(xs, [f"{round(x ** 0.5)}²" for x in xs])
        else:
            axes.set_xticks(xs, [str(x) for x in xs])
    drawn.suptitle(title)
    save_figure(drawn, path)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--layer", default="blocks.3")
    parser.add_argument("--sides", type=int, nargs="+", default=[128, 256, 512, 1024, 2048])
    parser.add_argument("--batches", type=int, nargs="+", default=[1, 4, 16, 64])
    parser.add_argument("--plot", type=Path, help="save the curves to this PNG")
    parser.add_argument("--pairs", type=int, help="timed step pairs per row (default: 48 for small images, 10 from a megapixel)")
    args = parser.parse_args()
    device = torch.device(args.device)
    model = load_model("efficientnet_lite0", device=device)
    title = f"efficientnet_lite0 up to {args.layer} on {device} ({torch.get_num_threads()} threads)"
    print(title)
    print(f"{'batch':>5} {'side':>5} {'megapixels':>10} {'bare s/step':>12} {'studio s/step':>14} {'ratio':>6}"
          f" {'studio s/step/Mpx':>18} {'once a climb':>13}")
    worst = 0.0
    by_side, by_batch = [], []
    plan = [(1, side) for side in args.sides] + [(batch, 128) for batch in args.batches if batch != 1]
    for batch, side in plan:
        bare, climb, setup = per_step(model, device, args.layer, batch, side, args.pairs)
        pixels = batch * side * side
        worst = max(worst, climb / bare)
        print(f"{batch:>5} {side:>5} {pixels / MEGA:>10.3f} {bare:>12.4f} {climb:>14.4f} {climb / bare:>6.2f}"
              f" {climb / (pixels / MEGA):>18.3f} {setup:>12.3f}s", flush=True)
        if batch == 1:
            by_side.append((side * side, bare, climb))
        if side == 128:
            by_batch.append((batch, bare, climb))
    by_batch.sort()
    print(f"\nworst ratio {worst:.2f} (target <= {TARGET})")
    if args.plot:
        plot(by_side, by_batch, args.plot, title)
        print(f"plot: {args.plot}")


if __name__ == "__main__":
    main()
