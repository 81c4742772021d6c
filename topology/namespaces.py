"""The names of a sandbox's own network namespaces (containers' namespaces are named after them)."""

__all__ = ["OUTSIDE_NAMESPACES", "SANDBOX_NAMESPACES"]

# The outside world: the router (the sandbox's "internet"), a remote web server, an external client.
OUTSIDE_NAMESPACES = ("router", "remote", "client")
# The student's Docker host first, then the outside world.
SANDBOX_NAMESPACES = ("host", *OUTSIDE_NAMESPACES)
