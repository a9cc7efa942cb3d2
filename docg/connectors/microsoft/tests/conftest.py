from docg.connectors.microsoft.tests.fake import graph_api  # noqa: F401
