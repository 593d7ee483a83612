"""A throwaway `redis-server` for tests and benchmarks of `RedisRateLimiter`.

Real Redis, not a stand-in: the Debian package's `redis-server` binary, started on a free
127.0.0.1 port in a temporary directory with persistence off, stopped (and restartable on the
same port, to test a Redis that blinks) by the owner. Readiness is asked with redis-py's PING.
"""

from __future__ import annotations

import shutil
import socket
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import redis  # redis-py, the `redis` extra (tests and benchmarks have it)

__all__ = ["INSTALL_HINT", "RedisServer", "redis_server"]

INSTALL_HINT = (
    "redis-server is not on PATH; install it (Debian/Ubuntu: `apt-get install -y redis-server`, "
    "macOS: `brew install redis`) to run the Redis limiter's tests and benchmarks"
)
_START_TIMEOUT = 10.0


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


class RedisServer:
    """One `redis-server` process on 127.0.0.1; `start()` again after `stop()` restarts it."""

    def __init__(self, directory: Path, port: int | None = None) -> None:
        """Prepare a server; nothing runs until `start`.

        Args:
            directory: where the server works and writes its log (`redis.log`).
            port: the port to listen on; None picks a free one.

        Raises:
            FileNotFoundError: `redis-server` is not on PATH (the message says how to
                install it).
        """
        binary = shutil.which("redis-server")
        if binary is None:
            raise FileNotFoundError(INSTALL_HINT)
        self._binary = binary
        self._directory = directory
        self.port = port or _free_port()
        self.url = f"redis://127.0.0.1:{self.port}/0"
        self._process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        if self._process is not None:
            raise RuntimeError("redis-server is already running")
        options = {
            "bind": "127.0.0.1",
            "port": str(self.port),
            "dir": str(self._directory),
            "save": "",  # no snapshots: nothing outlives the process
            "appendonly": "no",
            "daemonize": "no",
        }
        command = [self._binary]
        for name, value in options.items():
            command += [f"--{name}", value]
        log = (self._directory / "redis.log").open("ab")
        with log:
            self._process = subprocess.Popen(
                command, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + _START_TIMEOUT
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                raise RuntimeError(
                    f"redis-server exited with status {self._process.returncode}: "
                    + (self._directory / "redis.log").read_text(errors="replace")[-500:]
                )
            try:
                with redis.Redis(port=self.port, socket_timeout=0.5) as client:
                    if client.ping():
                        return
            except redis.RedisError:
                pass
            time.sleep(0.02)
        self.stop()
        raise RuntimeError(f"redis-server did not answer on port {self.port} within 10 s")

    def stop(self) -> None:
        """Kill the server (SIGKILL: no goodbye, as when it crashes) and wait for it."""
        process, self._process = self._process, None
        if process is not None and process.poll() is None:
            process.kill()
            process.wait(timeout=10)

    @property
    def running(self) -> bool:
        """Whether the server process is alive."""
        return self._process is not None and self._process.poll() is None


@contextmanager
def redis_server() -> Iterator[RedisServer]:
    """A started redis-server in a temporary directory, stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="instantly-redis-") as directory:
        server = RedisServer(Path(directory))
        server.start()
        try:
            yield server
        finally:
            server.stop()
