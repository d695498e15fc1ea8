"""Commands of deskbook.scripts_library (registered into the main parser by deskbook.cli)."""


def register(subparsers) -> None:
    """Add this package's sub-commands to the `deskbook` parser."""
