"""A limit that asks the person to wait, told apart from other refusals.

Pages show its message like any other validation error (the typed text stays in the form);
the JSON API answers it as Discourse does: 429, `error_type: rate_limit`,
`extras.wait_seconds` and a `Retry-After` header, so clients back off instead of failing.
"""

from django.core.exceptions import ValidationError


class RateLimited(ValidationError):
    """Raised by a check when the person must wait `wait_seconds` before trying again."""

    def __init__(self, message, wait_seconds: int, *, field: str = "form"):
        super().__init__({field: message})
        self.wait_seconds = max(1, int(wait_seconds))
