"""What an administrator's input can get wrong, said once for the JSON API and the pages.

``AppError``
 └── ``FieldProblem`` (422; ``DuplicateName`` 409): one field's value, with a message key
"""

from __future__ import annotations

from protocol import Lang
from server.errors import AppError, Conflict, InvalidInput
from server.web.i18n import translate


class FieldProblem(InvalidInput):
    """``field`` of a form or body is wrong; ``key`` is its message in the catalog."""

    def __init__(self, field: str, key: str, **values: object) -> None:
        super().__init__(f"{field}: {translate(Lang.EN, key, **values)}")
        self.field: str = field
        self.key = key
        self.values = values

    def text(self, lang: Lang) -> str:
        """The message in ``lang``."""
        return translate(lang, self.key, **self.values)


class DuplicateName(FieldProblem):
    """The name or e-mail is already used by another active record (409)."""

    status = Conflict.status
    default_code = Conflict.default_code


__all__ = ["AppError", "DuplicateName", "FieldProblem"]
