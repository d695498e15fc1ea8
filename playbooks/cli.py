"""Commands of deskbook.playbooks (registered into the main parser by deskbook.cli)."""


def register(subparsers) -> None:
    """Add this package's sub-commands to the `deskbook` parser."""
