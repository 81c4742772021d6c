"""Reading labs; ownership is enforced here, so views and consumers cannot forget it."""

from __future__ import annotations

from django.db.models import QuerySet

from labapp.labs.models import Lab


def lab_list_for_user(*, user) -> QuerySet[Lab]:
    if not user.is_authenticated:
        return Lab.objects.none()
    return Lab.objects.filter(owner=user)


def lab_get_for_user(*, lab_id: int, user) -> Lab | None:
    """The lab if `user` owns it; None for someone else's lab, an unknown id or an anonymous user."""
    return lab_list_for_user(user=user).filter(pk=lab_id).first()
