"""Attribution: which pixels a class score depends on (``gradients``: saliency, SmoothGrad,
guided backpropagation; ``occlusion``: hiding windows). Pictures of the results are drawn by
``studio.pictures.colour`` (colour maps, overlays)."""

from studio.attribute.gradients import class_gradient, guided_relus, logits, saliency_map, smooth_saliency
from studio.attribute.occlusion import Occlusion, occlude, occlusion_map, target_probability, window_positions

__all__ = ["Occlusion", "class_gradient", "guided_relus", "logits", "occlude", "occlusion_map", "saliency_map",
           "smooth_saliency", "target_probability", "window_positions"]
