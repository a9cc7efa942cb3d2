from docg.providers.google.tests.fake import google_api  # noqa: F401
