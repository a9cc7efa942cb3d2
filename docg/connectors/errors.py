class ConnectorError(Exception):
    """A provider call failed. `transient` errors are retried; the others fail the step."""

    def __init__(self, code: str, message_human: str, details_tech: dict | None = None, *, transient: bool = False):
        super().__init__(message_human)
        self.code = code
        self.message_human = message_human
        self.details_tech = details_tech or {}
        self.transient = transient
