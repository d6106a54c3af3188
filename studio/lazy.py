"""Modules imported on first use.

Validating a preset reads each scene module's schema; importing torch for that would cost more
than a second. Scene modules therefore name their heavy dependencies with :func:`lazy` and use
them as ``torch.no_grad()`` or ``optimize.Ascent``: nothing is imported until a scene renders.
"""

from __future__ import annotations

import importlib
import types


class _LazyModule(types.ModuleType):
    def __getattr__(self, attribute: str):
        module = importlib.import_module(self.__name__)
        self.__dict__["_module"] = module  # later look-ups skip importlib
        return getattr(module, attribute)


def lazy(name: str) -> types.ModuleType:
    """The module ``name``, imported when one of its attributes is first read.

    Example:
        >>> json = lazy("json")
        >>> json.dumps([1])
        '[1]'
    """
    return _LazyModule(name)
