"""Processes of a benchmark: the mock server, and the client sides that run against it.

The mock runs in its own process (`python -m instantly.testing`), so the client's figures do not
include the server's cost; every client side runs in a process of its own (`bench._child`), one
after the other, so that its peak RSS is its own and two contenders never share the machine.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from ._child import PROFILE_ENV, RESULT_MARKER

__all__ = [
    "REPO",
    "BenchError",
    "Mock",
    "enable_profiling",
    "mock_server",
    "run_child",
    "run_children",
    "server_process",
]

REPO = Path(__file__).resolve().parent.parent
_LISTENING = "listening on "
_STARTUP_TIMEOUT = 60.0
# The server's module; another implementation of the same command line can stand in for it.
MOCK_MODULE = os.environ.get("BENCH_MOCK_MODULE", "instantly.testing")
_STOP_TIMEOUT = 10.0


class BenchError(RuntimeError):
    """A benchmark could not run (as opposed to a figure that fell short, which is reported)."""


class _Profiling:
    """Where children write cProfile stats when `python -m bench --profile DIR` asked for it."""

    directory: Path | None = None


def enable_profiling(directory: Path) -> None:
    """Make every client process (and the mock) from now on write cProfile stats to directory."""
    directory.mkdir(parents=True, exist_ok=True)
    _Profiling.directory = directory


def _profile_env(name: str) -> dict[str, str]:
    if _Profiling.directory is None:
        return {}
    return {PROFILE_ENV: str(_Profiling.directory / f"{name}.prof")}


def _tail(path: Path, limit: int = 2000) -> str:
    try:
        text = path.read_text(errors="replace")
    except OSError:
        return ""
    return text[-limit:]


class Mock:
    """A running mock: its base URL, and the CPU time its process has used so far."""

    def __init__(self, url: str, pid: int) -> None:
        self.url = url
        self.pid = pid

    def cpu_s(self) -> float | None:
        """User + system CPU seconds of the mock process (Linux /proc); None elsewhere.

        Read before and after a client run, it tells whether the mock was the busy side.
        """
        try:
            with open(f"/proc/{self.pid}/stat") as stat:
                # Fields after the parenthesised command name; utime and stime are 14 and 15.
                fields = stat.read().rsplit(")", 1)[1].split()
            return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
        except (OSError, ValueError, IndexError):
            return None


@contextmanager
def mock_server(
    *,
    rate_limit: tuple[int, int] | None,
    latency: float = 0.0,
    seed: int = 0,
    name: str = "mock",
    module: str | None = None,
    extra: tuple[str, ...] = (),
) -> Iterator[Mock]:
    """Run `python -m instantly.testing` in its own process; yield it (`.url`, `.cpu_s()`).

    rate_limit: (per second, per minute) the mock enforces with 429s; None for no limit.
    latency: seconds the mock waits before answering each request.
    name: names the profile file when profiling is on.
    module: another server with the same command line (`bench.sink`); None for the mock.
    extra: more arguments for the server.
    """
    limit = "none" if rate_limit is None else f"{rate_limit[0]},{rate_limit[1]}"
    profiler: list[str] = []
    if _Profiling.directory is not None:
        # Stopped with SIGINT, cProfile's runner still writes its stats on the way out.
        profiler = ["-m", "cProfile", "-o", str(_Profiling.directory / f"{name}.prof")]
    command = [
        sys.executable,
        *profiler,
        "-m",
        module or MOCK_MODULE,
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--api-key",
        "test",
        "--rate-limit",
        limit,
        "--latency",
        f"{latency:g}",
        "--seed",
        str(seed),
        *extra,
    ]
    with server_process(command, stop=signal.SIGINT if profiler else signal.SIGTERM) as mock:
        yield mock


@contextmanager
def server_process(command: list[str], *, stop: signal.Signals = signal.SIGTERM) -> Iterator[Mock]:
    """Run a server that prints `listening on URL` when ready; yield it; stop it with `stop`."""
    with tempfile.TemporaryDirectory(prefix="bench-server-") as tmp:
        stderr_path = Path(tmp) / "stderr.txt"
        with stderr_path.open("wb") as stderr:
            process = subprocess.Popen(
                command,
                cwd=REPO,
                stdout=subprocess.PIPE,
                stderr=stderr,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        try:
            yield Mock(_read_url(process, stderr_path), process.pid)
        finally:
            _stop(process, stop)


def _read_url(process: subprocess.Popen[str], stderr_path: Path) -> str:
    assert process.stdout is not None
    deadline = time.monotonic() + _STARTUP_TIMEOUT
    # readline() blocks, but the mock prints its one line promptly or exits; the deadline is a
    # guard for a mock that is alive yet silent.
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            process.wait(timeout=_STOP_TIMEOUT)
            raise BenchError(
                f"the mock exited (status {process.returncode}) before it listened: "
                f"{_tail(stderr_path)}"
            )
        if line.startswith(_LISTENING):
            return line[len(_LISTENING) :].strip()
    raise BenchError(f"the mock did not print {_LISTENING!r} within {_STARTUP_TIMEOUT:g} s")


def _stop(process: subprocess.Popen[str], how: signal.Signals) -> None:
    if process.poll() is None:
        process.send_signal(how)
        try:
            process.wait(timeout=_STOP_TIMEOUT)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
    if process.stdout is not None:
        process.stdout.close()


def _command(
    target: str,
    params: Mapping[str, Any],
    name: str,
    python: str | None,
    env: Mapping[str, str] | None,
) -> tuple[list[str], dict[str, str]]:
    command = [python or sys.executable, "-m", "bench._child", target, json.dumps(params)]
    full_env = {**os.environ, **(env or {}), **_profile_env(name)}
    # The child imports `bench` from the repository, whichever interpreter runs it.
    full_env["PYTHONPATH"] = os.pathsep.join(
        p for p in (str(REPO), full_env.get("PYTHONPATH", "")) if p
    )
    return command, full_env


def _result(name: str, returncode: int, stdout: str, stderr: str) -> dict[str, Any]:
    result: dict[str, Any] | None = None
    for line in stdout.splitlines():
        if line.startswith(RESULT_MARKER):
            result = json.loads(line[len(RESULT_MARKER) :])
    if returncode != 0 or result is None:
        # The whole traceback to the console; its last line (the exception) to the notes.
        print(stderr[-4000:], file=sys.stderr)
        last = stderr.strip().splitlines()[-1:] or ["no output"]
        raise BenchError(f"{name}: the client process failed (status {returncode}): {last[0]}")
    return result


def run_child(
    target: str,
    params: Mapping[str, Any],
    *,
    name: str,
    python: str | None = None,
    env: Mapping[str, str] | None = None,
    timeout: float = 900.0,
    mock: Mock | None = None,
) -> dict[str, Any]:
    """Run `target` ("module:function") in a fresh process and return the dict it returned.

    name: names this run in errors and in profile file names.
    python: the interpreter (the peer's venv); None for this one.
    env: extra environment variables.
    mock: the mock the client talks to: its CPU time over the run is added as `mock_cpu_s`,
        and as `mock_busy` (CPU seconds per second of the measured part, 1.0 = a whole core).
    """
    mock_cpu_before = mock.cpu_s() if mock is not None else None
    command, full_env = _command(target, params, name, python, env)
    try:
        completed = subprocess.run(
            command,
            cwd=REPO,
            env=full_env,
            capture_output=True,
            text=True,
            timeout=timeout,
            check=False,
        )
    except subprocess.TimeoutExpired as exc:
        raise BenchError(f"{name}: the client process ran over {timeout:g} s") from exc
    result = _result(name, completed.returncode, completed.stdout, completed.stderr)
    mock_cpu_after = mock.cpu_s() if mock is not None else None
    if mock_cpu_before is not None and mock_cpu_after is not None:
        # Includes the client's set-up requests too (a list, a warm-up): a slight overcount.
        result["mock_cpu_s"] = round(mock_cpu_after - mock_cpu_before, 2)
        if result.get("elapsed_s"):
            result["mock_busy"] = round(result["mock_cpu_s"] / result["elapsed_s"], 2)
    return result


def run_children(
    target: str, params: list[Mapping[str, Any]], *, name: str, timeout: float = 300.0
) -> list[dict[str, Any]]:
    """Run `target` in one process per params, all at the same time; their dicts, in order.

    For work several processes share (workers of one workspace): unlike run_child, the
    processes share the machine, so their figures are about the group, not about one of them.
    """
    processes = []
    for i, one in enumerate(params):
        command, full_env = _command(target, one, f"{name}-{i}", None, None)
        processes.append(
            subprocess.Popen(
                command,
                cwd=REPO,
                env=full_env,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                stdin=subprocess.DEVNULL,
                text=True,
            )
        )
    deadline = time.monotonic() + timeout
    outputs: list[tuple[int, str, str]] = []
    try:
        for process in processes:
            try:
                stdout, stderr = process.communicate(timeout=max(0.1, deadline - time.monotonic()))
            except subprocess.TimeoutExpired as exc:
                raise BenchError(f"{name}: a worker process ran over {timeout:g} s") from exc
            outputs.append((process.returncode, stdout, stderr))
    finally:
        for process in processes:
            if process.poll() is None:
                process.kill()
                process.communicate()
    return [_result(f"{name}-{i}", *output) for i, output in enumerate(outputs)]
