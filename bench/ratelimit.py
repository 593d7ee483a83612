"""Rate limits at the server's end: what a strict server sees of our gate, alone and shared.

Every scenario runs a strict mock (counting arrivals as the API does, no leeway) in its own
process, which records when every request arrived; the figures are the server's view:

- one_process: one client at the default limits (100/s, 6,000/min) against a server at the
  same limits: `gather` of many `lead_lists.list_page()` (a cheap GET that needs no seeding),
  all at once. The busiest 1-second window at the
  server (429s included), the throughput, the share answered 429.
- adaptive: a client configured for 100/s against a server that allows 20/s: how many 429s
  it takes to learn the lower rate, and the run time against the ideal (calls / 20 s).
- shared_redis: 4 worker processes of one workspace sharing one `RedisRateLimiter` at 100/s
  (a real redis-server), the calls split between them, starting together.
"""

from __future__ import annotations

import asyncio
import importlib
import json
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from instantly.testing._arrivals import busiest

from ._clients import API_KEY
from ._proc import BenchError, mock_server, run_child, run_children

__all__ = ["calls", "run"]

LIMIT = (100, 6000)
SLOW_SERVER = (20, 1200)
LATENCY = 0.05
WORKERS = 4
_BARRIER_TIMEOUT = 120.0  # a worker that is not ready by then fails the scenario


def _strict_mock(rate_limit: tuple[int, int], arrivals: Path, name: str) -> Any:
    return mock_server(
        rate_limit=rate_limit,
        latency=LATENCY,
        name=name,
        module="bench._arrivals_mock",
        extra=("--arrivals-out", str(arrivals)),
    )


def _scenario(
    *,
    server_limit: tuple[int, int],
    client_limiter: dict[str, Any],
    count: int,
    workers: int = 1,
    name: str,
) -> dict[str, Any]:
    """Run `count` calls (split over `workers` processes) against a fresh strict mock."""
    with tempfile.TemporaryDirectory(prefix="bench-rate-") as tmp:
        arrivals_path = Path(tmp) / "arrivals.json"
        with _strict_mock(server_limit, arrivals_path, f"{name}-mock") as mock:
            shares = [count // workers + (i < count % workers) for i in range(workers)]
            params = [
                {
                    "url": mock.url,
                    "count": share,
                    "limiter": client_limiter,
                    "barrier": tmp,
                    "index": i,
                }
                for i, share in enumerate(shares)
            ]
            # Workers import the SDK at their own pace (seconds on a loaded machine): the clock
            # starts once every one of them is ready.
            go = threading.Thread(target=_release, args=(Path(tmp), workers), daemon=True)
            go.start()
            if workers == 1:
                results = [run_child("bench.ratelimit:calls", params[0], name=name, mock=mock)]
            else:
                results = run_children("bench.ratelimit:calls", params, name=name)
            go.join()
            start_at = float((Path(tmp) / "go").read_text())
        arrivals = [t for t in json.loads(arrivals_path.read_text()) if t >= start_at - 0.01]
    late = [r["late_start_s"] for r in results if r["late_start_s"] > 0.05]
    elapsed = max(r["end"] for r in results) - start_at
    requests = sum(r["requests"] for r in results)
    limited = sum(r["rate_limited"] for r in results)
    completed = sum(r["succeeded"] for r in results)
    per_second = server_limit[0]
    worst = busiest(arrivals)
    figures: dict[str, Any] = {
        "calls": count,
        "workers": workers,
        "server_limit_per_s": per_second,
        "worst_window": worst,
        "worst_window_over_limit": round(worst / per_second, 3),
        "throughput_ratio": round(completed / elapsed / per_second, 3),
        "time_vs_ideal": round(elapsed / (count / per_second), 3),
        "share_429": round(limited / max(1, requests), 4),
        "requests": requests,
        "rate_limited": limited,
        "failed": sum(r["failed"] for r in results),
        "elapsed_s": round(elapsed, 3),
        "gate_waits": sum(r.get("gate_waits", 0) for r in results),
    }
    if any("rate" in r for r in results):
        figures["learned_rate"] = [r.get("rate") for r in results]
    if late:
        figures["late_start_s"] = late  # a worker that began late makes the run look slower
    return figures


def _release(barrier: Path, workers: int) -> None:
    """Once every worker has written its ready file, write `go`: the monotonic start time."""
    deadline = time.monotonic() + _BARRIER_TIMEOUT
    while time.monotonic() < deadline:
        if len(list(barrier.glob("ready-*"))) >= workers:
            break
        time.sleep(0.005)
    (barrier / "go.tmp").write_text(repr(time.monotonic() + 0.2))
    (barrier / "go.tmp").rename(barrier / "go")


def _wait_for_go(barrier: Path, index: int) -> float:
    """Say this worker is ready; block until `go` appears; return the start time it names."""
    (barrier / f"ready-{index}").touch()
    go = barrier / "go"
    while not go.exists():
        time.sleep(0.002)
    return float(go.read_text())


def run(quick: bool) -> tuple[dict[str, Any], list[str]]:
    """The three scenarios; quick mode makes each a few seconds long."""
    notes: list[str] = []
    single = 200 if quick else 1000
    slow = 100 if quick else 400
    shared = 200 if quick else 1000
    if quick:
        notes.append(
            f"ratelimit: quick mode makes {single} calls alone, {slow} against the 20/s server, "
            f"{shared} shared by {WORKERS} processes (full: 1000, 400, 1000)"
        )
    default = {"kind": "tuple", "per_second": LIMIT[0], "per_minute": LIMIT[1]}
    figures: dict[str, Any] = {
        "one_process": _scenario(
            server_limit=LIMIT, client_limiter=default, count=single, name="rate-one"
        ),
        "adaptive": _scenario(
            server_limit=SLOW_SERVER, client_limiter=default, count=slow, name="rate-adaptive"
        ),
    }
    if _has_redis_limiter():
        from instantly.testing._redis import INSTALL_HINT, redis_server

        try:
            with redis_server() as redis:
                figures["shared_redis"] = _scenario(
                    server_limit=LIMIT,
                    client_limiter={
                        "kind": "redis",
                        "url": redis.url,
                        "workspace": "bench",
                        "per_second": LIMIT[0],
                        "per_minute": LIMIT[1],
                    },
                    count=shared,
                    workers=WORKERS,
                    name="rate-shared",
                )
        except FileNotFoundError:
            figures["shared_redis"] = None
            notes.append(f"ratelimit: shared_redis not run: {INSTALL_HINT}")
    else:
        figures["shared_redis"] = None
        notes.append("ratelimit: shared_redis not run: this version has no RedisRateLimiter")
    if not quick:
        # How a workspace's processes could share the limit without Redis: a quarter each.
        split = {"kind": "tuple", "per_second": LIMIT[0] // WORKERS, "per_minute": LIMIT[1] // 4}
        figures["static_split"] = _scenario(
            server_limit=LIMIT,
            client_limiter=split,
            count=shared,
            workers=WORKERS,
            name="rate-split",
        )
    one = figures["one_process"]
    figures["worst_window_over_limit"] = one["worst_window_over_limit"]
    figures["throughput_ratio"] = one["throughput_ratio"]
    figures["share_429_adaptive"] = figures["adaptive"]["share_429"]
    figures["adaptive_time_vs_ideal"] = figures["adaptive"]["time_vs_ideal"]
    if figures["shared_redis"] is not None:
        figures["shared_throughput_ratio"] = figures["shared_redis"]["throughput_ratio"]
        figures["shared_worst_window_over_limit"] = figures["shared_redis"][
            "worst_window_over_limit"
        ]
    if one["worst_window"] > LIMIT[0] + 2:
        notes.append(
            f"ratelimit: a strict server saw {one['worst_window']} requests in one second from a "
            f"client limited to {LIMIT[0]}/s"
        )
    return figures, notes


def _has_redis_limiter() -> bool:
    try:
        instantly = importlib.import_module("instantly")
        getattr(instantly, "RedisRateLimiter")  # noqa: B009 - absent before the shared limiter
    except (ImportError, AttributeError):
        return False
    return True


def _limiter(spec: dict[str, Any]) -> Any:
    if spec["kind"] == "redis":
        from instantly import RedisRateLimiter  # type: ignore[attr-defined,unused-ignore]

        return RedisRateLimiter(
            spec["url"],
            workspace=spec["workspace"],
            per_second=spec["per_second"],
            per_minute=spec["per_minute"],
        )
    return (spec["per_second"], spec["per_minute"])


async def calls(params: dict[str, Any]) -> dict[str, Any]:
    """Client side: `count` concurrent list calls, from the barrier's start (monotonic clock)."""
    from instantly import AsyncInstantly

    limiter = _limiter(params["limiter"])
    async with AsyncInstantly(
        api_key=API_KEY, base_url=params["url"], rate_limit=limiter, max_retries=20
    ) as client:
        start_at = _wait_for_go(Path(params["barrier"]), params["index"])
        await asyncio.sleep(max(0.0, start_at - time.monotonic()))
        late = time.monotonic() - start_at
        outcomes = await asyncio.gather(
            *(client.lead_lists.list_page(limit=1) for _ in range(params["count"])),
            return_exceptions=True,
        )
        end = time.monotonic()
        stats = client.stats
        failed = [o for o in outcomes if isinstance(o, BaseException)]
        result: dict[str, Any] = {
            "succeeded": len(outcomes) - len(failed),
            "failed": len(failed),
            "errors": sorted({type(f).__name__ for f in failed}),
            "requests": stats.requests_sent,
            "rate_limited": stats.rate_limited,
            "end": end,
            "late_start_s": round(late, 3),
        }
        for name in ("gate_waits", "gate_wait_s"):
            if hasattr(stats, name):
                result[name] = getattr(stats, name)
        rate = getattr(client.limiter, "rate", None)
        if rate is not None:
            result["rate"] = round(rate, 2)
    if failed and not result["succeeded"]:
        raise BenchError(f"every call failed: {failed[0]!r}")
    return result
