"""Placeholder until the owning change lands."""


def register(subparsers) -> None:
    """Add commands to the `deskbook` parser."""
