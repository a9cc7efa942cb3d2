from docg.connectors.clicksign.tests.fake import clicksign_api  # noqa: F401
