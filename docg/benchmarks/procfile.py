"""The server as the Procfile starts it, for benchmarks that measure the path users take."""

import os
import socket
import subprocess
import sys
from pathlib import Path

from django.conf import settings


def procfile_commands(path: Path) -> dict[str, str]:
    """The Procfile's process types and their command lines."""
    commands = {}
    for line in path.read_text().splitlines():
        name, sep, command = line.partition(":")
        if sep and name.strip() and not line.lstrip().startswith("#"):
            commands[name.strip()] = command.strip()
    return commands


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def procfile_process(kind: str, *, port: int, env: dict[str, str] | None = None, output=subprocess.DEVNULL):
    """Start the Procfile's `kind` line (web, worker) as a platform would, with PORT set, in its own session.

    `exec env` makes the server itself the child, so its pid is the process to measure (`env` also takes
    a line's leading VAR=value assignments, which bash's `exec` does not).
    """
    line = procfile_commands(Path(settings.BASE_DIR) / "Procfile")[kind]
    environment = {
        **os.environ,
        **(env or {}),
        "PORT": str(port),
        "DJANGO_SETTINGS_MODULE": os.environ.get("DJANGO_SETTINGS_MODULE", settings.SETTINGS_MODULE),
        # The virtualenv's commands (uvicorn, python) first, as when it is activated.
        "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}",
    }
    return line, subprocess.Popen(  # noqa: S602 (the project's own Procfile line, run as a platform runs it)
        f"exec env {line}", shell=True, executable="/bin/bash", cwd=settings.BASE_DIR, env=environment,
        stdout=output, stderr=subprocess.STDOUT, start_new_session=True,
    )  # fmt: skip
