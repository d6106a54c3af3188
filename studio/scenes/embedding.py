"""`embedding`: a set of images laid out on a 2-D map of their features: PCA (torch), or
t-SNE where scikit-learn is installed. Thumbnails sit at their points, framed by group.

Seed 004 §Dimensionality reduction: thousands of feature dimensions down to two you can see.
"""

from __future__ import annotations

import torch
from PIL import Image, ImageDraw

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.output.images import BACKGROUND, LABEL_COLOUR, font, from_pil, to_uint8
from studio.optimize.param import resize
from studio.scenes.neighbours import Scene as Neighbours

CANVAS = (1600, 1200)
GROUP_COLOURS = ["#ffb000", "#3ec1ff", "#ff5a8c", "#7ee07e", "#c792ff", "#ff8a3d", "#f0f0f0", "#48d1cc"]


def pca(vectors: torch.Tensor, dimensions: int = 2) -> tuple[torch.Tensor, list[float]]:
    """Project rows of ``vectors`` (N, D) on their top principal axes.

    Returns:
        ((N, dimensions) coordinates, the fraction of variance each axis explains). Axis signs
        are fixed (largest coefficient positive) so the map does not flip between runs.

    Example:
        >>> points, explained = pca(torch.tensor([[0.0, 0.0], [2.0, 0.1], [4.0, 0.0]]), 1)
        >>> round(explained[0], 2)
        1.0
    """
    centred = vectors.double() - vectors.double().mean(dim=0)
    _, singular, axes = torch.linalg.svd(centred, full_matrices=False)
    axes = axes[:dimensions]
    signs = torch.sign(axes.gather(1, axes.abs().argmax(dim=1, keepdim=True)))
    axes = axes * signs
    variance = singular ** 2
    explained = (variance[:dimensions] / variance.sum().clamp_min(1e-12)).tolist()
    return (centred @ axes.T).float(), explained


def tsne(vectors: torch.Tensor, seed: int) -> torch.Tensor:
    from sklearn.manifold import TSNE

    perplexity = max(2.0, min(30.0, (len(vectors) - 1) / 3))
    points = TSNE(2, perplexity=perplexity, init="pca", random_state=seed % (2 ** 31)).fit_transform(
        vectors.double().numpy())
    return torch.from_numpy(points).float()


def place(points: torch.Tensor, thumbnails: list[torch.Tensor], groups: list[str], title: str,
          thumb: int) -> torch.Tensor:
    """Draw thumbnails centred at ``points`` (N, 2) scaled to fill the canvas, with a legend."""
    width, height = CANVAS
    margin = thumb // 2 + 16
    low, high = points.min(dim=0).values, points.max(dim=0).values
    span = (high - low).clamp_min(1e-12)
    canvas = Image.new("RGB", CANVAS, BACKGROUND)
    draw = ImageDraw.Draw(canvas)
    names = list(dict.fromkeys(groups))
    for (x, y), image, group in zip(points.tolist(), thumbnails, groups):
        left = round(margin + (x - low[0].item()) / span[0].item() * (width - 2 * margin)) - thumb // 2
        top = round(48 + margin + (1 - (y - low[1].item()) / span[1].item()) * (height - 48 - 2 * margin)) - thumb // 2
        colour = GROUP_COLOURS[names.index(group) % len(GROUP_COLOURS)]
        draw.rectangle([left - 3, top - 3, left + thumb + 2, top + thumb + 2], outline=colour, width=3)
        canvas.paste(Image.fromarray(to_uint8(image)), (left, top))
    draw.text((16, 12), title, fill=LABEL_COLOUR, font=font(20))
    if len(names) > 1:
        for index, name in enumerate(names):
            colour = GROUP_COLOURS[index % len(GROUP_COLOURS)]
            draw.rectangle([width - 240, 20 + 24 * index, width - 226, 34 + 24 * index], fill=colour)
            draw.text((width - 218, 16 + 24 * index), name, fill=colour, font=font(18))
    return from_pil(canvas)


class Scene(Neighbours):
    kind = "embedding"

    def __init__(self, context):
        super().__init__(context)
        if len(self.images) < 3:
            raise PresetError(context.source, context.key("images"), "too few images for a map",
                              expected="at least 3 images", found=f"{len(self.images)}")
        if context.scene.method == "tsne":
            try:
                import sklearn  # noqa: F401
            except ImportError:
                raise PresetError(context.source, context.key("method"), "t-SNE needs scikit-learn, "
                                  "which is not installed", expected="\"pca\", or install it: "
                                  "pip install scikit-learn", found="tsne") from None
            if len(self.images) < 5:
                raise PresetError(context.source, context.key("images"), "too few images for t-SNE",
                                  expected="at least 5 images", found=f"{len(self.images)}")

    def render(self, progress):
        scene = self.context.scene
        vectors = self.vectors(progress)
        explained: list[float] = []
        if scene.method == "tsne":
            points = tsne(vectors, self.context.preset.preset.seed)
        else:
            points, explained = pca(vectors)
        thumb = max(24, min(128, int(900 / len(self.images) ** 0.5)))
        thumbnails = [resize(item.image[None], thumb, thumb)[0] for item in self.images]
        method = "t-SNE" if scene.method == "tsne" else \
            f"PCA ({100 * explained[0]:.0f}% + {100 * explained[1]:.0f}% of the variance)" if len(explained) > 1 \
            else "PCA"
        title = f"{self.model.name}, {self.layer_name}: {len(self.images)} images by {method}"
        yield Still(place(points, thumbnails, [item.group for item in self.images], title, thumb))
        yield Record("layer", self.path or "penultimate")
        yield Record("method", scene.method)
        if explained:
            yield Record("explained_variance", [round(v, 6) for v in explained])
        yield Record("points", [{"image": item.label, "group": item.group, "x": round(x, 6), "y": round(y, 6)}
                                for item, (x, y) in zip(self.images, points.tolist())])
