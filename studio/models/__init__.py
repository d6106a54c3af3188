"""The model zoo: names to frozen networks, layers by path or alias, truncated forward passes."""

from studio.models.layers import LayerTap, describe_layers, resolve_layer
from studio.models.zoo import FEATURED, LoadedModel, availability, load_model

__all__ = ["FEATURED", "LayerTap", "LoadedModel", "availability", "describe_layers", "load_model",
           "resolve_layer"]
