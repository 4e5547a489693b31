"""Errors a person can act on: their message is shown to them as it is."""


class UserError(Exception):
    """Bad input or a refused action. The message is safe, specific and shown privately."""

    def __init__(self, message: str, *, field: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.field = field


class NotFound(UserError):
    pass


class StorageUnavailable(Exception):
    """The database could not be reached: nothing was saved."""


class OutcomeUnknown(StorageUnavailable):
    """The database stopped answering after COMMIT was sent: the change may or may not have
    been saved. Trying again is safe: a change already made is refused and said so."""


class InvalidForm(UserError):
    """A form's answers are wrong: one message per form field (block id), all at once."""

    def __init__(self, errors: dict[str, str]) -> None:
        super().__init__(next(iter(errors.values())), field=next(iter(errors)))
        self.errors = errors
