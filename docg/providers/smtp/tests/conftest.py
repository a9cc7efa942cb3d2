from docg.providers.smtp.testing import smtp_server  # noqa: F401
