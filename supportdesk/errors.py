"""The project's base error for broken business rules.

Services raise subclasses of DomainError. Their message is written for the
person who caused it and is safe to show: views turn it into a form error or
a message, and the API into a problem details response.
"""


class DomainError(Exception):
    """A business rule that the requested action would break."""

    # The HTTP status the API answers with: 400 for a broken rule, 409 for a
    # state conflict, 404 for an object outside the caller's scope.
    status_code = 400
    # A short machine-readable code, used in problem details.
    code = "invalid"

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class StateConflict(DomainError):
    """The object is in a state that does not allow the action."""

    status_code = 409
    code = "conflict"


class NotFound(DomainError):
    """The object does not exist or lies outside the caller's scope."""

    status_code = 404
    code = "not_found"


class PermissionDenied(DomainError):
    """The actor may not perform this action."""

    status_code = 403
    code = "permission_denied"
