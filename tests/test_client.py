"""AsyncInstantly: configuration checks, key secrecy, sessions, and background_jobs.wait."""

from __future__ import annotations

import re
from typing import Any

import aiohttp
import pytest
from aioresponses import aioresponses

from instantly import AsyncInstantly, RateLimiter, models
from instantly.errors import BackgroundJobError, BackgroundJobTimeout

KEY = "sk-client-test-SECRET-55555"
BASE = "https://api.instantly.test"


def job(status: str, progress: int = 0) -> dict[str, Any]:
    return {
        "id": "job-1",
        "workspace_id": "w",
        "type": "move-leads",
        "progress": progress,
        "status": status,
        "created_at": "2026-01-01T00:00:00Z",
        "updated_at": "2026-01-01T00:00:00Z",
    }


def test_missing_key_says_how_to_set_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("INSTANTLY_API_KEY", raising=False)
    with pytest.raises(ValueError, match="INSTANTLY_API_KEY"):
        AsyncInstantly()


async def test_key_from_environment_is_sent_and_never_shown(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY)
    async with AsyncInstantly(base_url=BASE) as client:
        assert KEY not in repr(client) and "api_key='***'" in repr(client)
        assert KEY not in repr(vars(client))
        with aioresponses() as mock:
            mock.get(f"{BASE}/api/v2/background-jobs/job-1", payload=job("success"))
            await client.background_jobs.get("job-1")
            ((_, calls),) = mock.requests.items()
        assert calls[0].kwargs["headers"]["Authorization"] == f"Bearer {KEY}"
        assert calls[0].kwargs["headers"]["User-Agent"].startswith("instantly-python/")


@pytest.mark.parametrize("url", ["http://api.instantly.ai", "http://10.0.0.5:8080", "ftp://x"])
def test_plain_http_is_refused_off_loopback(url: str) -> None:
    with pytest.raises(ValueError, match="base_url"):
        AsyncInstantly(api_key=KEY, base_url=url)


@pytest.mark.parametrize(
    ("url", "words"),
    [
        ("https://api.instantly.ai@evil.example", "user info before '@'"),
        ("https://user:pw@api.instantly.ai", "user info before '@'"),
        ("https://api.instantly.ai?x=1", "query or a fragment"),
        ("https://api.instantly.ai/?", "query or a fragment"),
        ("https://api.instantly.ai#top", "query or a fragment"),
        ("https://api.instantly.ai\\@evil.example", "backslash"),
        ("https://api.instantly.ai /x", "whitespace"),
        ("https://api.instantly.ai\n", "whitespace"),
        ("https://api.instantly.ai:99999", "invalid port"),
    ],
)
def test_a_base_url_that_is_not_just_an_origin_is_refused(url: str, words: str) -> None:
    with pytest.raises(ValueError, match="base_url") as info:
        AsyncInstantly(api_key=KEY, base_url=url)
    assert words in str(info.value)


def test_a_base_url_with_a_path_prefix_is_kept() -> None:
    client = AsyncInstantly(api_key=KEY, base_url="https://proxy.example/instantly/")
    assert client.base_url == "https://proxy.example/instantly"


@pytest.mark.parametrize("url", ["http://127.0.0.1:8787", "http://localhost:1", "http://[::1]:9"])
def test_loopback_http_is_allowed(url: str) -> None:
    assert AsyncInstantly(api_key=KEY, base_url=url).base_url == url


def test_insecure_http_needs_the_explicit_flag() -> None:
    client = AsyncInstantly(api_key=KEY, base_url="http://api.internal", allow_insecure=True)
    assert client.base_url == "http://api.internal"


async def test_a_session_passed_in_is_used_and_left_open() -> None:
    async with aiohttp.ClientSession() as session:
        async with AsyncInstantly(api_key=KEY, base_url=BASE, session=session) as client:
            with aioresponses() as mock:
                mock.get(f"{BASE}/api/v2/background-jobs/job-1", payload=job("success"))
                await client.background_jobs.get("job-1")
                ((_, calls),) = mock.requests.items()
        assert not session.closed
        # A session of the caller's carries none of our headers: each request brings them.
        assert calls[0].kwargs["headers"]["Authorization"] == f"Bearer {KEY}"
        assert "Authorization" not in session.headers


def test_rate_limit_options() -> None:
    shared = RateLimiter(per_second=10, per_minute=100)
    a = AsyncInstantly(api_key=KEY, base_url=BASE, rate_limit=shared)
    b = AsyncInstantly(api_key=KEY, base_url=BASE, rate_limit=shared)
    assert a.limiter is b.limiter is shared
    assert AsyncInstantly(api_key=KEY, base_url=BASE, rate_limit=None).limiter is None


@pytest.mark.looptime
async def test_wait_polls_with_backoff_until_success() -> None:
    seen: list[int] = []
    async with AsyncInstantly(api_key=KEY, base_url=BASE, rate_limit=None) as client:
        with aioresponses() as mock:
            url = re.compile(re.escape(f"{BASE}/api/v2/background-jobs/job-1") + ".*")
            for status, progress in [("pending", 0), ("in-progress", 40), ("success", 100)]:
                mock.get(url, payload=job(status, progress))
            done = await client.background_jobs.wait(
                "job-1", poll_interval=1.0, on_progress=lambda j: seen.append(j.progress)
            )
    assert done.status is models.BackgroundJobStatus.SUCCESS
    assert seen == [0, 40, 100]


@pytest.mark.looptime
async def test_wait_raises_on_failure_and_on_timeout() -> None:
    async with AsyncInstantly(api_key=KEY, base_url=BASE, rate_limit=None) as client:
        with aioresponses() as mock:
            url = re.compile(re.escape(f"{BASE}/api/v2/background-jobs/job-1") + ".*")
            mock.get(url, payload=job("failed", 10))
            with pytest.raises(BackgroundJobError, match="failed"):
                await client.background_jobs.wait("job-1")
            mock.get(url, payload=job("in-progress", 10), repeat=True)
            with pytest.raises(BackgroundJobTimeout) as info:
                await client.background_jobs.wait("job-1", timeout=30, poll_interval=5)
    assert info.value.job.progress == 10


@pytest.mark.looptime
async def test_move_hands_back_a_job_to_wait_on_and_accepted_answers_say_why_not() -> None:
    async with AsyncInstantly(api_key=KEY, base_url=BASE, rate_limit=None) as client:
        with aioresponses() as mock:
            mock.post(f"{BASE}/api/v2/leads/move", payload=job("pending", 0))
            url = re.compile(re.escape(f"{BASE}/api/v2/background-jobs/job-1") + ".*")
            mock.get(url, payload=job("in-progress", 50))
            mock.get(url, payload=job("success", 100))
            started = await client.leads.move(to_campaign_id="c-1", ids=["l-1"])
            done = await client.background_jobs.wait(started)
            assert done.status is models.BackgroundJobStatus.SUCCESS

            mock.post(
                f"{BASE}/api/v2/leads/update-interest-status",
                status=202,
                payload={"message": "Lead interest status update background job submitted"},
            )
            accepted = await client.leads.update_interest_status(
                lead_email="a@example.com", interest_value=1
            )
            with pytest.raises(TypeError, match="202 and a message only, no job ID"):
                await client.background_jobs.wait(accepted)  # type: ignore[arg-type]
