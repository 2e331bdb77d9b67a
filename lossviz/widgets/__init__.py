"""lossviz.widgets."""
