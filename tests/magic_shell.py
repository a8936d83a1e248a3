"""Running cells and ``%kfp_secret`` lines in the in-process IPython shell of the ``ip`` fixture."""


def run_cell(shell, code: str):
    """Run ``code`` as a cell (the magic then reads the cell's namespace); raise what it raised."""
    result = shell.run_cell(code)
    if result.error_before_exec:
        raise result.error_before_exec
    if result.error_in_exec:
        raise result.error_in_exec
    return result.result


def kfp_secret(shell, line: str):
    """Run ``%kfp_secret LINE`` as a cell; raise what it raised, return its display object."""
    return run_cell(shell, f"%kfp_secret {line}")
