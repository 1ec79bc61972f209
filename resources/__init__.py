"""Data files shipped with nnviz: lecture presets and icons."""
