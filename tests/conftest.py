# The shared fixtures (the alice/bob/vera/charlie cast) live in docg.common.testing.
from docg.common.testing import *  # noqa: F403
