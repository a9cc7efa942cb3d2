from docg.connectors.tests.provider_fake import provider_api  # noqa: F401
