from docg.providers.zapsign.tests.fake import zapsign_api  # noqa: F401
