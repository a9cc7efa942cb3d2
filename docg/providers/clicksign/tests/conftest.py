from docg.providers.clicksign.tests.fake import clicksign_api  # noqa: F401
