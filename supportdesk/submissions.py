"""Exactly-once handling of public forms: a repeated submission gives one record.

Each form carries a random hidden ``submission_key`` (SubmissionKeyForm). The
record it creates stores the key in a unique column, so a double click, a
retry after a network error or the Back button finds the first record
instead of creating a second one.
"""

from __future__ import annotations

from collections.abc import Callable

from django.db import IntegrityError, models, transaction

from supportdesk.errors import DomainError


def create_once[Record: models.Model](
    model: type[Record],
    submission_key: str | None,
    create: Callable[[], Record],
    *,
    in_scope: Callable[[Record], bool],
    out_of_scope: str,
    lock: Callable[[], object] | None = None,
) -> tuple[Record, bool]:
    """Return the record ``submission_key`` created, else ``create()``'s record.

    The boolean is True when ``create()`` ran. Without a key, ``create()``
    always runs. A record outside the caller's scope (the key of another
    order's or case's form) raises DomainError with the message
    ``out_of_scope`` instead, because returning it would reveal another
    customer's data.

    ``lock``, when given, takes the caller's row lock before the key is
    checked, so a second submission waits for the first and then finds its
    record instead of seeing the state the first one changed. Without it, a
    racing second insert fails on the unique column and the first record is
    returned.
    """
    if not submission_key:
        return create(), True
    try:
        with transaction.atomic():
            if lock is not None:
                lock()
            existing = _record_with_key(model, submission_key, in_scope, out_of_scope)
            if existing is not None:
                return existing, False
            return create(), True
    except IntegrityError:
        existing = _record_with_key(model, submission_key, in_scope, out_of_scope)
        if existing is None:
            raise
        return existing, False


def _record_with_key(model, submission_key, in_scope, out_of_scope):
    existing = model._default_manager.filter(submission_key=submission_key).first()
    if existing is not None and not in_scope(existing):
        raise DomainError(out_of_scope)
    return existing
