from docg.connectors.google.tests.fake import google_api  # noqa: F401
