from docg.connectors.smtp.testing import smtp_server  # noqa: F401
