"""deskbook: install a standard customer-service playbook into Zendesk and JSM."""

from importlib.metadata import PackageNotFoundError, version as _version

try:
    __version__ = _version("deskbook")
except PackageNotFoundError:  # running from a source tree that was never installed
    __version__ = "0.0.0+source"
