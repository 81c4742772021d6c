"""Named errors of the topology library."""


class TopologyError(Exception):
    """Base class of every error this library raises on purpose."""


class SandboxNotFound(TopologyError):
    """No sandbox with this id exists."""


class SandboxStartError(TopologyError):
    """A sandbox could not be built; nothing of it is left behind."""


class NamespaceNotFound(TopologyError):
    """The named namespace does not exist in this sandbox."""


class DaemonUnavailable(TopologyError):
    """The lab-node daemon is not running and could not be started."""


class UnsupportedVersion(TopologyError):
    """The requested Docker version is not emulated."""
