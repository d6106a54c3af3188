"""The optimisation core shared by dream, maximize, progressive and atlas."""

from studio.optimize import objectives
from studio.optimize.ascent import Ascent, AscentSettings, check_smallest_size
from studio.optimize.param import PixelImage, SpectralImage, make_param
from studio.optimize.schedule import Ramp, octave_sizes, upscale_sizes
from studio.optimize.transform import Robustness, blur

__all__ = ["Ascent", "AscentSettings", "PixelImage", "Ramp", "Robustness", "SpectralImage", "blur",
           "check_smallest_size", "make_param", "objectives", "octave_sizes", "upscale_sizes"]
