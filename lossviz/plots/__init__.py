"""lossviz.plots."""
