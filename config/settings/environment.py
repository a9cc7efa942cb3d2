"""What settings modules read before anything else: the .env file, and defaults that follow the environment."""

import os
from pathlib import Path

import environ

# The repository root's .env, or the file DOCG_ENV_FILE names. Variables already set win over it.
ENV_FILE = Path(os.environ.get("DOCG_ENV_FILE") or Path(__file__).resolve().parent.parent.parent / ".env")


def read_env_file() -> None:
    environ.Env.read_env(ENV_FILE, overwrite=False)


def local_url() -> str:
    """FRONTEND_URL's default: this machine, on the port served (`PORT`, as `make run` and the Procfile use)."""
    return f"http://127.0.0.1:{os.environ.get('PORT') or '8000'}"
