"""scsim: a fast, reproducible simulator of social credit systems on synthetic populations."""

__version__ = "0.1.0"
