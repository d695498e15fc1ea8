"""`deskbook sandbox <desk>`: run a local desk that answers like the real one.

Each registered desk adds its sub-command (`Desk.add_sandbox_command`); its arguments live in a
light `sandbox_command` module next to its sandbox package, and the package itself (werkzeug and,
for some desks, the OpenAPI request checker) is imported only by the handler that starts the
server, so building the parser never pays for it.
"""

from deskbook.connectors.registry import all_desks


def register(subparsers) -> None:
    """Add `deskbook sandbox <desk>` with every registered desk's sandbox."""
    every = all_desks()
    parser = subparsers.add_parser("sandbox", help=f"run a local sandbox desk ({' or '.join(d.title for d in every)})")
    desks = parser.add_subparsers(dest="desk", metavar="DESK", required=True)
    for desk in every:
        desk.add_sandbox_command(desks)
