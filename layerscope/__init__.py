"""layerscope: why container images are big and why builds miss the cache, measured."""

__version__ = "0.1.0"
