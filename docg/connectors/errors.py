class ConnectorError(Exception):
    """A provider call failed. `transient` errors are retried; the others fail the step."""

    def __init__(self, code: str, message_human: str, details_tech: dict | None = None, *, transient: bool = False):
        super().__init__(message_human)
        self.code = code
        self.message_human = message_human
        self.details_tech = details_tech or {}
        self.transient = transient


class MessageCatalog:
    """A connector's error messages in English and Brazilian Portuguese, keyed by code.

    Errors are raised in English with a language-neutral `summary` kept in
    details_tech; the action translates them for the organization (clients have
    no organization to ask).
    """

    def __init__(self, messages: dict[str, tuple[str, str]]):
        self.messages = messages

    def error(self, code: str, summary: str, tech: dict | None = None, *, transient: bool = False) -> ConnectorError:
        message = self.messages[code][0].format(summary=summary)
        return ConnectorError(code, message, {**(tech or {}), "summary": summary}, transient=transient)

    def translate(self, error: ConnectorError, language: str) -> str:
        pair = self.messages.get(error.code)
        if pair is None or "summary" not in error.details_tech or not (language or "").lower().startswith("pt"):
            return error.message_human
        return pair[1].format(summary=error.details_tech["summary"])
