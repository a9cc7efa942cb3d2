# Test code lives under tests/, never in docg/: these plugins give every test in
# docg/*/tests and tests/ the shared fixtures (pytest reads pytest_plugins only here,
# in the root conftest). Plain helpers are imported from the same modules.
pytest_plugins = [
    "tests.fixtures.cast",
    "tests.fixtures.engine",
    "tests.fixtures.processes",
    "tests.fixtures.browser",
    "tests.fixtures.loopback",
    "tests.fixtures.ai",
    "tests.fixtures.smtp",
]
