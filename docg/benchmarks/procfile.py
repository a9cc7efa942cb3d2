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


def wait_until_up(port: int, processes: list[subprocess.Popen], log_name: str) -> None:
    """Wait (60 s at most) until the web line answers on `port`; fail at once if a process exited."""
    import time

    import httpx

    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if any(p.poll() is not None for p in processes):
            raise RuntimeError(f"A server process exited at start; see {log_name}")
        try:
            httpx.get(f"http://127.0.0.1:{port}/login/", timeout=1)  # any answer: the server is up
            return
        except httpx.HTTPError:
            time.sleep(0.1)
    raise RuntimeError(f"The web server did not answer on port {port} within 60 s; see {log_name}")


def stop_processes(processes: list[subprocess.Popen]) -> None:
    """SIGTERM each process group started by `procfile_process`, then SIGKILL what is left after 30 s."""
    import signal

    for process in processes:
        try:
            os.killpg(process.pid, signal.SIGTERM)
        except ProcessLookupError:
            continue
    for process in processes:
        try:
            process.wait(timeout=30)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait(timeout=10)
