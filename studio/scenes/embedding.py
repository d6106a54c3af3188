"""`embedding`: a set of images laid out on a 2-D map of their features: PCA (torch), or
t-SNE where scikit-learn is installed. Thumbnails sit at their points, framed by group.

Seed 004 §Dimensionality reduction: thousands of feature dimensions down to two you can see.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from studio.errors import PresetError
from studio.frames import Record, Still
from studio.lazy import lazy
from studio.scenes.neighbours import ImageSetSection
from studio.scenes.neighbours import Scene as Neighbours

features = lazy("studio.models.features")
layout = lazy("studio.pictures.layout")
scatter = lazy("studio.pictures.scatter")


@dataclass(frozen=True)
class Section(ImageSetSection):
    WHAT = "an `embedding` scene"
    method: Literal["pca", "tsne"] = "pca"
    """`pca` or `tsne`."""


TSNE_SECONDS = 2.0  # scikit-learn's import and fit for up to a few hundred points (profiled: about 2 s)


class Scene(Neighbours):
    def __init__(self, context):
        super().__init__(context)
        if len(self.images) < 3:
            raise PresetError(context.source, context.key("images"), "too few images for a map",
                              expected="at least 3 images", found=f"{len(self.images)}")
        if context.section.method == "tsne":
            try:
                import sklearn  # noqa: F401
            except ImportError:
                raise PresetError(context.source, context.key("method"), "t-SNE needs scikit-learn, "
                                  "which is not installed", expected="\"pca\", or install it: "
                                  "pip install scikit-learn", found="tsne") from None
            if len(self.images) < 5:
                raise PresetError(context.source, context.key("images"), "too few images for t-SNE",
                                  expected="at least 5 images", found=f"{len(self.images)}")
            self.fixed_seconds = TSNE_SECONDS

    def render(self, progress):
        section = self.context.section
        vectors = self.vectors(progress)
        explained: list[float] = []
        if section.method == "tsne":
            points = features.tsne(vectors, self.context.preset_seed)
        else:
            points, explained = features.pca(vectors)
        thumb = max(24, min(128, int(900 / len(self.images) ** 0.5)))
        thumbnails = [layout.resize(item.image[None], thumb, thumb)[0] for item in self.images]
        method = "t-SNE" if section.method == "tsne" else \
            f"PCA ({100 * explained[0]:.0f}% + {100 * explained[1]:.0f}% of the variance)" if len(explained) > 1 \
            else "PCA"
        title = f"{self.model.name}, {self.layer_name}: {len(self.images)} images by {method}"
        yield Still(scatter.place(points, thumbnails, [item.group for item in self.images], title, thumb))
        yield Record("layer", self.path or "penultimate")
        yield Record("method", section.method)
        if explained:
            yield Record("explained_variance", [round(v, 6) for v in explained])
        yield Record("points", [{"image": item.label, "group": item.group, "x": round(x, 6), "y": round(y, 6)}
                                for item, (x, y) in zip(self.images, points.tolist())])
