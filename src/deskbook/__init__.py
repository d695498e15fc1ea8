"""deskbook: install a standard customer-service playbook into Zendesk and JSM."""


def __getattr__(name: str) -> str:
    """`deskbook.__version__`, read from the installed metadata only when asked for (it costs every
    command ~50 ms at import otherwise)."""
    if name != "__version__":
        raise AttributeError(f"module 'deskbook' has no attribute {name!r}")
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("deskbook")
    except PackageNotFoundError:  # running from a source tree that was never installed
        return "0.0.0+source"
