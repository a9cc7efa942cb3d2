from typing import Any

from rest_framework import exceptions


class ApiError(exceptions.APIException):
    """An error a service raises for the API to answer as-is."""

    def __init__(self, code: str, message: str, *, status_code: int = 400, details: Any = None):
        super().__init__(detail=message, code=code)
        self.status_code = status_code
        self.code = code
        self.message = message
        self.details = details if details is not None else {}
