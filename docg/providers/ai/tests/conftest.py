from docg.providers.ai.testing import fake_ai  # noqa: F401
