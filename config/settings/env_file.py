"""The .env file: the repository root's, or the one DOCG_ENV_FILE names. Variables already set win."""

import os
from pathlib import Path

import environ

ENV_FILE = Path(os.environ.get("DOCG_ENV_FILE") or Path(__file__).resolve().parent.parent.parent / ".env")


def read_env_file() -> None:
    environ.Env.read_env(ENV_FILE, overwrite=False)
