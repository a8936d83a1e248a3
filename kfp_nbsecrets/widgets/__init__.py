"""ipywidgets on top of the core: the secret picker and the run status line."""
