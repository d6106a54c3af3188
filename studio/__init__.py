"""studio: a batch renderer for what neural networks see."""

__version__ = "0.2.1"
