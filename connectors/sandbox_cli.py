"""`deskbook sandbox zendesk|jsm`: run a local desk that answers like the real one.

Each desk's arguments live in a light `sandbox_command` module next to its sandbox package; the
package itself (werkzeug and, for JSM, the OpenAPI request checker) is imported only by the
handler that starts the server, so building the parser never pays for it.
"""

from deskbook.connectors.jsm import sandbox_command as jsm_sandbox_command
from deskbook.connectors.zendesk import sandbox_command as zendesk_sandbox_command


def register(subparsers) -> None:
    """Add `deskbook sandbox <desk>` with the `zendesk` and `jsm` desks."""
    parser = subparsers.add_parser("sandbox", help="run a local sandbox desk (Zendesk or JSM)")
    desks = parser.add_subparsers(dest="desk", metavar="DESK", required=True)
    zendesk_sandbox_command.add_sandbox_command(desks)
    jsm_sandbox_command.add_sandbox_command(desks)
