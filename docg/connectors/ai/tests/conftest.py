from docg.connectors.ai.testing import fake_ai  # noqa: F401
