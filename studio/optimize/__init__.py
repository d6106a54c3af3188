"""The optimisation core: one step loop (``loop.py``) under the ascents of dream, maximize,
progressive and atlas and the descents of inversion, texture and style."""

from studio.optimize import objectives
from studio.optimize.ascent import Ascent, check_smallest_size
from studio.optimize.batches import Climbs, batch_size, chunks, climb_batches, shrink_tile_on_out_of_memory
from studio.optimize.loop import Settings, StepLoop
from studio.optimize.match import Descent
from studio.optimize.param import PixelImage, SpectralImage, make_param
from studio.optimize.schedule import Ramp, Sawtooth, octave_sizes, schedule, upscale_sizes
from studio.optimize.transform import Robustness, blur
from studio.pictures.layout import resize

__all__ = ["Ascent", "Climbs", "Descent", "PixelImage", "Ramp", "Sawtooth", "Robustness", "Settings", "SpectralImage",
           "StepLoop", "batch_size", "blur", "check_smallest_size", "chunks", "climb_batches", "make_param",
           "objectives", "octave_sizes", "resize", "schedule", "shrink_tile_on_out_of_memory", "upscale_sizes"]
