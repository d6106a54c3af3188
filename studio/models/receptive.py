"""Receptive fields, traced through the real forward pass.

A unit of a layer sees a window of the input image. The window is computed from the
architecture, not guessed: a forward pass runs under a ``TorchFunctionMode`` that follows every
tensor, composing each convolution and pooling's kernel, stride, padding and dilation, and taking
the union where branches meet (``cat``, ``add``). Residual and Inception-style graphs are exact.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch.overrides import TorchFunctionMode

from studio.models.layers import LayerTap
from studio.models.zoo import LoadedModel


@dataclass(frozen=True)
class Field:
    """Where units of a map look, along one axis: unit ``i`` sees input pixels
    ``low + i·jump`` to ``high + i·jump`` inclusive (possibly past the image's edges).

    Example:
        >>> Field().conv(kernel=3, stride=1, padding=1).conv(kernel=2, stride=2, padding=0)
        Field(low=-1, high=2, jump=2)
    """

    low: int = 0
    high: int = 0
    jump: int = 1

    @property
    def size(self) -> int:
        return self.high - self.low + 1

    def conv(self, kernel: int, stride: int, padding: int, dilation: int = 1) -> Field:
        span = dilation * (kernel - 1)
        return Field(self.low - padding * self.jump, self.high + (span - padding) * self.jump,
                     self.jump * stride)

    def union(self, other: Field) -> Field:
        return Field(min(self.low, other.low), max(self.high, other.high), max(self.jump, other.jump))

    def box(self, index: int) -> tuple[int, int]:
        """[start, stop) in input pixels of unit ``index``."""
        return self.low + index * self.jump, self.high + index * self.jump + 1


def _pair(value) -> tuple[int, int]:
    return (value, value) if isinstance(value, int) else tuple(value)


def _argument(args, kwargs, position: int, name: str, default):
    if name in kwargs:
        return kwargs[name]
    return args[position] if len(args) > position else default


class _Tracer(TorchFunctionMode):
    """Attaches (y Field, x Field) to every tensor made during the forward pass."""

    WINDOWED = {F.conv2d: (1, None, 3, 4, 5), F.max_pool2d: (1, 2, 3, None, 4),
                F.avg_pool2d: (1, 2, 3, None, None)}

    def __init__(self, whole: tuple[int, int]):
        super().__init__()
        self.whole = whole  # (height, width) of the image, for global pooling

    def __torch_function__(self, func, types, args=(), kwargs=None):
        kwargs = kwargs or {}
        result = func(*args, **kwargs)
        fields = [t._studio_field for t in _tensors(args, kwargs) if hasattr(t, "_studio_field")]
        if not fields:
            return result
        y_field, x_field = fields[0]
        for other_y, other_x in fields[1:]:
            y_field, x_field = y_field.union(other_y), x_field.union(other_x)
        if func in self.WINDOWED:
            y_field, x_field = self._windowed(func, args, kwargs, y_field, x_field)
        elif func is F.pad:  # explicit padding (TF "same" convolutions) moves the window
            y_field, x_field = self._padded(args, kwargs, y_field, x_field)
        elif func is F.adaptive_avg_pool2d or func is F.adaptive_max_pool2d:
            y_field, x_field = self._adaptive(args, kwargs, y_field, x_field)
        for tensor in _tensors((result,), {}):
            try:
                tensor._studio_field = (y_field, x_field)
            except (AttributeError, RuntimeError):
                pass
        return result

    def _windowed(self, func, args, kwargs, y_field, x_field):
        k_pos, s_pos, p_pos, d_pos, _ = self.WINDOWED[func]
        names = ("weight", "kernel_size", "stride", "padding", "dilation")
        if func is F.conv2d:
            kernel = tuple(_argument(args, kwargs, 1, "weight", None).shape[-2:])
            stride, padding, dilation = (_argument(args, kwargs, 3, "stride", 1),
                                         _argument(args, kwargs, 4, "padding", 0),
                                         _argument(args, kwargs, 5, "dilation", 1))
        else:
            kernel = _pair(_argument(args, kwargs, k_pos, names[1], 1))
            stride = _argument(args, kwargs, s_pos, "stride", None) or kernel
            padding = _argument(args, kwargs, p_pos, "padding", 0)
            dilation = _argument(args, kwargs, 4, "dilation", 1) if func is F.max_pool2d else 1
        kernel, stride, dilation = _pair(kernel), _pair(stride), _pair(dilation)
        if isinstance(padding, str):  # "same" keeps the centre; "valid" pads nothing
            padding = tuple((d * (k - 1)) // 2 for k, d in zip(kernel, dilation)) if padding == "same" else (0, 0)
        padding = _pair(padding)
        return (y_field.conv(kernel[0], stride[0], padding[0], dilation[0]),
                x_field.conv(kernel[1], stride[1], padding[1], dilation[1]))

    @staticmethod
    def _padded(args, kwargs, y_field, x_field):
        pad = list(_argument(args, kwargs, 1, "pad", ())) + [0, 0, 0, 0]
        left, top = pad[0], pad[2]
        return (Field(y_field.low - top * y_field.jump, y_field.high - top * y_field.jump, y_field.jump),
                Field(x_field.low - left * x_field.jump, x_field.high - left * x_field.jump, x_field.jump))

    def _adaptive(self, args, kwargs, y_field, x_field):
        source = args[0]
        out = _pair(_argument(args, kwargs, 1, "output_size", 1))
        fields = []
        for axis, field in zip((-2, -1), (y_field, x_field)):
            size_in, size_out = source.shape[axis], out[axis + 2] or source.shape[axis]
            if size_out == size_in:
                fields.append(field)
            else:  # PyTorch's adaptive windows: at most ceil(in/out) wide, starting floor(i·in/out)
                kernel = -(-size_in // size_out)
                fields.append(field.conv(kernel, max(1, size_in // size_out), 0))
        return tuple(fields)


def _tensors(args, kwargs):
    for value in list(args) + list(kwargs.values()):
        if isinstance(value, torch.Tensor):
            yield value
        elif isinstance(value, (list, tuple)):
            yield from _tensors(value, {})


def receptive_field(model: LoadedModel, path: str, size: tuple[int, int]) -> tuple[Field, Field]:
    """The (vertical, horizontal) receptive field of the units of layer ``path``.

    Args:
        model: a loaded model.
        path: a resolved module path.
        size: (height, width) of the image the layer is looked at through.

    Returns:
        Two :class:`Field`, for rows and columns of the layer's maps.
    """
    image = torch.zeros(1, 3, *size, device=model.device)
    image._studio_field = (Field(), Field())
    with torch.no_grad(), _Tracer(size):
        output = LayerTap(model, [path])(image)[path]
    field = getattr(output, "_studio_field", None)
    if field is None:
        whole = Field(0, size[0] - 1, size[0]), Field(0, size[1] - 1, size[1])
        return whole
    return field
