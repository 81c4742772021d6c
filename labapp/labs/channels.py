"""Names on the channel layer, each from one helper (docs/web-lab.md)."""


def lab_group(lab_id: int) -> str:
    """The group every browser socket of a lab joins."""
    return f"lab-{lab_id}"


def node_channel(node: str) -> str:
    """The channel a lab node's agent receives on; its Celery queue has the same name."""
    return f"labnode.{node}"
