from docg.providers.microsoft.tests.fake import graph_api  # noqa: F401
