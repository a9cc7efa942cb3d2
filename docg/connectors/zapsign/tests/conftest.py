from docg.connectors.zapsign.tests.fake import zapsign_api  # noqa: F401
