"""Names on the channel layer of the classroom, each from one helper."""


def cohort_group(cohort_id: int) -> str:
    """The group every instructor's dashboard socket of a cohort joins."""
    return f"cohort-{cohort_id}"
