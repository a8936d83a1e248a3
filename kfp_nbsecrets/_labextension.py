"""Where the prebuilt JupyterLab extension (the pipeline IR renderer) lives in this package."""


def _jupyter_labextension_paths() -> list[dict[str, str]]:
    """For ``jupyter labextension develop``: the built extension and its install name."""
    return [{"src": "labextension", "dest": "kfp-nbsecrets"}]
