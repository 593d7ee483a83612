from __future__ import annotations

import asyncio
import datetime
import enum
import gc
import json
import logging
import random
import re
import warnings
from collections.abc import Callable
from email.utils import formatdate
from typing import Any

import aiohttp
import pytest
from aiohttp.client_reqrep import ConnectionKey
from aioresponses import CallbackResult, aioresponses
from conftest import API_KEY, BASE_URL, USER_AGENT

from instantly import _transport
from instantly._ratelimit import MARGIN, RateLimiter
from instantly._transport import NO_BODY, Transport
from instantly.errors import (
    APIConnectionError,
    APIError,
    APITimeoutError,
    AuthenticationError,
    BadRequestError,
    ConflictError,
    InstantlyError,
    NotFoundError,
    PaymentRequiredError,
    PermissionDeniedError,
    RateLimitError,
    ServerError,
    UnprocessableEntityError,
)

# Every test runs on a fast-forwarded event loop clock: sleeps take no real time.
pytestmark = pytest.mark.looptime

MakeTransport = Callable[..., Transport]

LEADS = f"{BASE_URL}/api/v2/leads"
CAMPAIGNS = re.compile(re.escape(f"{BASE_URL}/api/v2/campaigns") + r"(\?.*)?$")


class Calls:
    """An aioresponses callback that records when each request started and what it carried."""

    def __init__(self) -> None:
        self.times: list[float] = []
        self.kwargs: list[dict[str, Any]] = []
        self.urls: list[str] = []

    def __call__(self, url: Any, **kwargs: Any) -> None:
        self.times.append(asyncio.get_running_loop().time())
        self.urls.append(str(url))
        self.kwargs.append(kwargs)

    def __len__(self) -> int:
        return len(self.times)


def now() -> float:
    return asyncio.get_running_loop().time()


# --- what goes on the wire ------------------------------------------------------------------


async def test_sends_auth_user_agent_and_accept(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, payload={"ok": True}, callback=calls)
    result = await make_transport().request("GET", "/api/v2/leads", retry_safe=True)
    assert result == {"ok": True}
    headers = calls.kwargs[0]["headers"]
    assert headers["Authorization"] == f"Bearer {API_KEY}"
    assert headers["User-Agent"] == USER_AGENT
    assert headers["Accept"] == "application/json"


async def test_content_type_only_with_a_body(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, body="", callback=calls)
    mock_api.post(LEADS, payload={}, callback=calls)
    transport = make_transport()
    await transport.request("GET", "/api/v2/leads", retry_safe=True)
    await transport.request("POST", "/api/v2/leads", json={"a": [1, "é"]}, retry_safe=False)
    get, post = calls.kwargs
    assert "Content-Type" not in get["headers"]
    assert get["data"] is None
    assert post["headers"]["Content-Type"] == "application/json"
    assert post["data"] == '{"a":[1,"é"]}'.encode()


async def test_json_none_sends_null_unlike_no_body(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.post(LEADS, payload={}, callback=calls, repeat=2)
    transport = make_transport()
    await transport.request("POST", "/api/v2/leads", json=None, retry_safe=False)
    await transport.request("POST", "/api/v2/leads", json=NO_BODY, retry_safe=False)
    assert calls.kwargs[0]["data"] == b"null"
    assert calls.kwargs[1]["data"] is None


async def test_delete_carries_a_json_body(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.delete(LEADS, payload={"count": 2}, callback=calls)
    body = {"campaign_id": "c1", "ids": ["a", "b"]}
    result = await make_transport().request("DELETE", "/api/v2/leads", json=body, retry_safe=False)
    assert result == {"count": 2}
    assert json.loads(calls.kwargs[0]["data"]) == body
    assert calls.kwargs[0]["headers"]["Content-Type"] == "application/json"


class Status(enum.IntEnum):
    ACTIVE = 1


class Kind(enum.StrEnum):
    SENT = "sent"


async def test_query_encoding(mock_api: aioresponses, make_transport: MakeTransport) -> None:
    calls = Calls()
    mock_api.get(CAMPAIGNS, payload={}, callback=calls)
    await make_transport().request(
        "GET",
        "/api/v2/campaigns",
        query={
            "search": "a b&c",
            "skip": None,
            "flag": True,
            "other": False,
            "ids": ["x", "y"],
            "tags": ("t1", None),
            "status": Status.ACTIVE,
            "kind": Kind.SENT,
            "limit": 10,
            "since": datetime.datetime(2026, 1, 2, 3, 4, 5, tzinfo=datetime.UTC),
            "day": datetime.date(2026, 1, 2),
        },
        retry_safe=True,
    )
    assert calls.kwargs[0]["params"] == [
        ("search", "a b&c"),
        ("flag", "true"),
        ("other", "false"),
        ("ids", "x"),
        ("ids", "y"),
        ("tags", "t1"),
        ("status", "1"),
        ("kind", "sent"),
        ("limit", "10"),
        ("since", "2026-01-02T03:04:05+00:00"),
        ("day", "2026-01-02"),
    ]
    url = calls.urls[0]
    assert "ids=x&ids=y" in url
    assert "search=a+b%26c" in url or "search=a%20b%26c" in url


async def test_query_rejects_nested_objects(make_transport: MakeTransport) -> None:
    with pytest.raises(TypeError, match="query parameter"):
        await make_transport().request(
            "GET", "/api/v2/campaigns", query={"filter": {"a": 1}}, retry_safe=True
        )


# --- decoding ----------------------------------------------------------------------------------


async def test_decodes_json_text_and_empty_answers(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    mock_api.get(LEADS, payload=None, body=b"[1,2]")
    mock_api.get(LEADS, status=204)
    mock_api.get(LEADS, body=b"")
    mock_api.get(LEADS, body="email,name\na@b.c,A\n", content_type="text/csv")
    transport = make_transport()
    assert await transport.request("GET", "/api/v2/leads", retry_safe=True) == [1, 2]
    assert await transport.request("GET", "/api/v2/leads", retry_safe=True) is None
    assert await transport.request("GET", "/api/v2/leads", retry_safe=True) is None
    text = await transport.request("GET", "/api/v2/leads", retry_safe=True)
    assert text == "email,name\na@b.c,A\n"


async def test_invalid_json_in_a_success_raises(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    mock_api.get(LEADS, body=b"{not json")
    with pytest.raises(APIError, match="not valid JSON") as info:
        await make_transport().request("GET", "/api/v2/leads", retry_safe=True)
    assert info.value.body == "{not json"


# --- errors ------------------------------------------------------------------------------------

ERROR_CLASSES = [
    (400, BadRequestError),
    (401, AuthenticationError),
    (402, PaymentRequiredError),
    (403, PermissionDeniedError),
    (404, NotFoundError),
    (409, ConflictError),
    (418, APIError),
    (422, UnprocessableEntityError),
    (429, RateLimitError),
    (500, ServerError),
    (502, ServerError),
    (503, ServerError),
]


@pytest.mark.parametrize(("status", "cls"), ERROR_CLASSES)
async def test_error_class_from_json_body(
    mock_api: aioresponses, make_transport: MakeTransport, status: int, cls: type[APIError]
) -> None:
    body = {"statusCode": status, "error": "Some Error", "message": "Lead not found"}
    mock_api.get(LEADS + "/abc", status=status, payload=body, headers={"x-request-id": "r-1"})
    with pytest.raises(cls) as info:
        await make_transport().request("GET", "/api/v2/leads/abc", retry_safe=False)
    error = info.value
    assert type(error) is cls
    assert error.status_code == status
    assert error.body == body
    assert error.message == "Lead not found"
    assert (error.method, error.path, error.request_id, error.attempts) == (
        "GET",
        "/api/v2/leads/abc",
        "r-1",
        1,
    )
    assert str(error).startswith(f"{status} ")
    assert "Lead not found (GET /api/v2/leads/abc)" in str(error)


async def test_error_str_matches_the_documented_shape(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    body = {"statusCode": 404, "error": "Not Found", "message": "Lead not found"}
    mock_api.get(LEADS + "/abc", status=404, payload=body)
    with pytest.raises(NotFoundError) as info:
        await make_transport().request("GET", "/api/v2/leads/abc", retry_safe=True)
    assert str(info.value) == "404 Not Found: Lead not found (GET /api/v2/leads/abc)"


@pytest.mark.parametrize(("status", "cls"), ERROR_CLASSES)
async def test_error_class_from_html_body(
    mock_api: aioresponses, make_transport: MakeTransport, status: int, cls: type[APIError]
) -> None:
    page = "<html><head><title>Upstream Failure</title></head><body>" + "x" * 2000 + "</body>"
    mock_api.get(LEADS, status=status, body=page, content_type="text/html")
    with pytest.raises(cls) as info:
        await make_transport().request("GET", "/api/v2/leads", retry_safe=False)
    error = info.value
    assert type(error) is cls
    assert isinstance(error.body, str)
    assert error.body.startswith("<html>")
    assert len(error.body) < 600
    assert error.message == "Upstream Failure"


async def test_payment_required_is_not_permission_denied(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    mock_api.get(LEADS, status=402, payload={"statusCode": 402, "error": "Payment Required"})
    with pytest.raises(PaymentRequiredError) as info:
        await make_transport().request("GET", "/api/v2/leads", retry_safe=True)
    assert not isinstance(info.value, PermissionDeniedError)
    assert "paid plan" in str(info.value)


async def test_success_status_with_an_error_body_raises(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    body = {"statusCode": 404, "error": "Not Found", "message": "Campaign not found"}
    mock_api.get(LEADS, status=200, payload=body)
    with pytest.raises(NotFoundError, match="Campaign not found"):
        await make_transport().request("GET", "/api/v2/leads", retry_safe=True)


async def test_success_body_with_a_status_code_field_is_data(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    # Only an object shaped like an error ({statusCode >= 400, error}) counts as one.
    mock_api.get(LEADS, payload={"statusCode": 200, "error": None}, repeat=2)
    transport = make_transport()
    assert await transport.request("GET", "/api/v2/leads", retry_safe=True) == {
        "statusCode": 200,
        "error": None,
    }


# --- 429 ---------------------------------------------------------------------------------------


@pytest.mark.parametrize("with_limiter", [True, False])
async def test_429_honours_retry_after_seconds(
    mock_api: aioresponses, make_transport: MakeTransport, with_limiter: bool
) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=429, headers={"Retry-After": "3"}, callback=calls)
    mock_api.get(LEADS, payload={"ok": 1}, callback=calls)
    limiter = RateLimiter() if with_limiter else None
    transport = make_transport(limiter=limiter, max_retries=2)
    start = now()
    assert await transport.request("GET", "/api/v2/leads", retry_safe=False) == {"ok": 1}
    assert calls.times[0] == start
    assert calls.times[1] - calls.times[0] == pytest.approx(3.0, abs=1e-6)
    assert transport.stats.rate_limited == 1
    assert transport.stats.retries == 1
    assert transport.stats.requests_sent == 2


async def test_429_honours_retry_after_http_date(
    mock_api: aioresponses, make_transport: MakeTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    wall = 1_800_000_000.0
    monkeypatch.setattr(_transport, "_wall_clock", lambda: wall)
    calls = Calls()
    retry_at = formatdate(wall + 7, usegmt=True)
    mock_api.get(LEADS, status=429, headers={"Retry-After": retry_at}, callback=calls)
    mock_api.get(LEADS, payload={}, callback=calls)
    transport = make_transport(limiter=RateLimiter(), max_retries=1)
    await transport.request("GET", "/api/v2/leads", retry_safe=True)
    assert calls.times[1] - calls.times[0] == pytest.approx(7.0, abs=1e-6)


async def test_retry_after_over_the_cap_raises_at_once(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=429, headers={"Retry-After": "300"}, callback=calls, repeat=True)
    start = now()
    with pytest.raises(RateLimitError) as info:
        await make_transport(max_retries=5).request("GET", "/api/v2/leads", retry_safe=True)
    assert info.value.retry_after == 300
    assert info.value.attempts == 1
    assert len(calls) == 1
    assert now() == start
    assert "300 s" in str(info.value)


async def test_429_without_retry_after_backs_off_with_full_jitter(
    mock_api: aioresponses, make_transport: MakeTransport, monkeypatch: pytest.MonkeyPatch
) -> None:
    bounds: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        bounds.append((low, high))
        return random.Random(len(bounds)).uniform(low, high)

    monkeypatch.setattr(random, "uniform", uniform)
    calls = Calls()
    mock_api.get(LEADS, status=429, callback=calls, repeat=7)
    mock_api.get(LEADS, payload={}, callback=calls)
    await make_transport(max_retries=7).request("GET", "/api/v2/leads", retry_safe=False)
    assert bounds == [(0, 0.5), (0, 1.0), (0, 2.0), (0, 4.0), (0, 8.0), (0, 16.0), (0, 30)]
    waits = [b - a for a, b in zip(calls.times, calls.times[1:], strict=False)]
    assert len(waits) == 7
    for wait, (low, high) in zip(waits, bounds, strict=True):
        assert low <= wait <= high + 1e-6


async def test_429_retries_exhausted_raises_rate_limit_error(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    mock_api.get(LEADS, status=429, headers={"Retry-After": "1"}, repeat=True)
    with pytest.raises(RateLimitError) as info:
        await make_transport(max_retries=2).request("GET", "/api/v2/leads", retry_safe=False)
    assert info.value.attempts == 3
    assert info.value.retry_after == 1


async def test_429_pauses_every_task_sharing_the_limiter(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS + "/first", status=429, headers={"Retry-After": "2"}, callback=calls)
    mock_api.get(LEADS + "/first", payload={}, callback=calls)
    for i in range(9):
        mock_api.get(f"{LEADS}/{i}", payload={}, callback=calls)
    limiter = RateLimiter()
    transport = make_transport(limiter=limiter, max_retries=1)
    start = now()

    async def later(i: int) -> object:
        await asyncio.sleep(0.5)  # after the 429 came back
        return await transport.request("GET", f"/api/v2/leads/{i}", retry_safe=True)

    await asyncio.gather(
        transport.request("GET", "/api/v2/leads/first", retry_safe=True),
        *(later(i) for i in range(9)),
    )
    assert len(calls) == 11
    assert calls.times[0] == start
    # Nobody started while the gate was paused; all started, paced, the moment it reopened.
    assert calls.times[1] == pytest.approx(start + 2.0, abs=1e-6)
    assert all(start + 2.0 - 1e-6 <= t <= start + 2.1 for t in calls.times[1:])
    assert limiter.pauses == 1


async def test_429_with_another_client_on_the_same_limiter(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=429, headers={"Retry-After": "5"}, callback=calls)
    mock_api.get(LEADS, payload={}, callback=calls, repeat=2)
    limiter = RateLimiter()
    first = make_transport(limiter=limiter, max_retries=1)
    second = make_transport(limiter=limiter, max_retries=1)
    start = now()
    task = asyncio.create_task(first.request("GET", "/api/v2/leads", retry_safe=True))
    await asyncio.sleep(1)
    await second.request("GET", "/api/v2/leads", retry_safe=True)
    await task
    assert calls.times[0] == start
    assert calls.times[1] == pytest.approx(start + 5, abs=1e-6)
    assert calls.times[2] == pytest.approx(start + 5, abs=1e-6)


# --- 5xx, connection errors, timeouts --------------------------------------------------------


async def test_5xx_is_retried_when_retry_safe(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=500, callback=calls)
    mock_api.get(LEADS, status=502, body="<html>bad gateway</html>", callback=calls)
    mock_api.get(LEADS, payload={"ok": True}, callback=calls)
    transport = make_transport(max_retries=5)
    assert await transport.request("GET", "/api/v2/leads", retry_safe=True) == {"ok": True}
    assert len(calls) == 3
    assert transport.stats.retries == 2


async def test_5xx_is_not_retried_when_not_retry_safe(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.post(LEADS, status=500, callback=calls, repeat=True)
    transport = make_transport(max_retries=5)
    with pytest.raises(ServerError) as info:
        await transport.request("POST", "/api/v2/leads", json={}, retry_safe=False)
    assert len(calls) == 1
    assert info.value.attempts == 1
    assert transport.stats.errors == 1


async def test_4xx_is_never_retried(mock_api: aioresponses, make_transport: MakeTransport) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=400, payload={"message": "bad"}, callback=calls, repeat=True)
    with pytest.raises(BadRequestError):
        await make_transport(max_retries=5).request("GET", "/api/v2/leads", retry_safe=True)
    assert len(calls) == 1


async def test_5xx_retries_exhausted_carry_attempts(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=503, callback=calls, repeat=True)
    with pytest.raises(ServerError) as info:
        await make_transport(max_retries=3).request("GET", "/api/v2/leads", retry_safe=True)
    assert info.value.attempts == 4
    assert len(calls) == 4
    assert "after 4 attempts" in str(info.value)


async def test_5xx_retry_after_is_used_as_the_wait(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, status=503, headers={"Retry-After": "4"}, callback=calls)
    mock_api.get(LEADS, payload={}, callback=calls)
    await make_transport(max_retries=1).request("GET", "/api/v2/leads", retry_safe=True)
    assert calls.times[1] - calls.times[0] == pytest.approx(4.0, abs=1e-6)


@pytest.mark.parametrize(
    "exc",
    [
        aiohttp.ServerDisconnectedError(),
        aiohttp.ClientConnectionError("connection reset"),
        aiohttp.ClientPayloadError("truncated"),
    ],
)
async def test_connection_error_is_retried_when_retry_safe(
    mock_api: aioresponses, make_transport: MakeTransport, exc: Exception
) -> None:
    calls = Calls()
    mock_api.get(LEADS, exception=exc, callback=calls)
    mock_api.get(LEADS, payload={"ok": True}, callback=calls)
    result = await make_transport(max_retries=2).request("GET", "/api/v2/leads", retry_safe=True)
    assert result == {"ok": True}
    assert len(calls) == 2


async def test_connection_error_is_not_retried_when_not_retry_safe(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.post(LEADS, exception=aiohttp.ServerDisconnectedError(), callback=calls, repeat=True)
    with pytest.raises(APIConnectionError) as info:
        await make_transport(max_retries=5).request(
            "POST", "/api/v2/leads", json={}, retry_safe=False
        )
    assert len(calls) == 1
    assert not isinstance(info.value, APITimeoutError)
    assert info.value.attempts == 1
    assert isinstance(info.value.__cause__, aiohttp.ServerDisconnectedError)


async def test_connect_failure_is_retried_even_when_not_retry_safe(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    # The request never left, so sending it again cannot apply it twice.
    key = ConnectionKey("api.instantly.test", 443, True, True, None, None, None)
    refused = aiohttp.ClientConnectorError(key, ConnectionRefusedError(111, "refused"))
    calls = Calls()
    mock_api.post(LEADS, exception=refused, callback=calls)
    mock_api.post(LEADS, payload={}, callback=calls)
    await make_transport(max_retries=1).request("POST", "/api/v2/leads", json={}, retry_safe=False)
    assert len(calls) == 2


async def test_connection_errors_exhausted_carry_attempts(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    mock_api.get(LEADS, exception=aiohttp.ServerDisconnectedError(), repeat=True)
    with pytest.raises(APIConnectionError) as info:
        await make_transport(max_retries=2).request("GET", "/api/v2/leads", retry_safe=True)
    assert info.value.attempts == 3
    assert "(GET /api/v2/leads) after 3 attempts" in str(info.value)


@pytest.mark.parametrize("exc", [TimeoutError(), aiohttp.ServerTimeoutError("read")])
async def test_timeout_raises_api_timeout_error(
    mock_api: aioresponses, make_transport: MakeTransport, exc: Exception
) -> None:
    calls = Calls()
    mock_api.post(LEADS, exception=exc, callback=calls, repeat=True)
    with pytest.raises(APITimeoutError) as info:
        await make_transport(max_retries=3, timeout=12).request(
            "POST", "/api/v2/leads", json={}, retry_safe=False
        )
    assert len(calls) == 1
    assert "timed out" in str(info.value)
    assert "12 s" in str(info.value)


async def test_timeout_is_retried_when_retry_safe(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(LEADS, exception=TimeoutError(), callback=calls)
    mock_api.get(LEADS, payload=[], callback=calls)
    assert (
        await make_transport(max_retries=1).request("GET", "/api/v2/leads", retry_safe=True) == []
    )
    assert len(calls) == 2


async def test_every_attempt_passes_the_limiter(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    mock_api.get(LEADS, status=500, repeat=2)
    mock_api.get(LEADS, payload={})
    limiter = RateLimiter()
    await make_transport(limiter=limiter, max_retries=2).request(
        "GET", "/api/v2/leads", retry_safe=True
    )
    assert limiter.acquired == 3


async def test_endpoint_limits_reach_the_limiter(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    calls = Calls()
    mock_api.get(f"{BASE_URL}/api/v2/emails", payload={}, callback=calls, repeat=True)
    transport = make_transport(limiter=RateLimiter())
    start = now()
    for _ in range(3):
        await transport.request(
            "GET",
            "/api/v2/emails",
            retry_safe=True,
            rate_key="listEmail",
            endpoint_limits=((2, 60.0),),
        )
    assert calls.times == [start, start, pytest.approx(start + 60 + MARGIN)]


# --- secrecy -----------------------------------------------------------------------------------


async def test_api_key_never_leaks(
    mock_api: aioresponses, make_transport: MakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    # The server echoing the key back must not smuggle it into an exception either.
    echo = {"statusCode": 401, "error": "Unauthorized", "message": f"Bad key {API_KEY}"}
    mock_api.get(LEADS, status=500)
    mock_api.get(LEADS, payload={})
    mock_api.get(LEADS, status=401, payload=echo)
    mock_api.get(LEADS, status=401, body=f"bad key {API_KEY}", content_type="text/plain")
    mock_api.get(LEADS, exception=aiohttp.ClientConnectionError(f"boom {API_KEY}"))
    transport = make_transport(max_retries=1)
    await transport.request("GET", "/api/v2/leads", retry_safe=True)
    errors: list[BaseException] = []
    for _ in range(3):
        with pytest.raises(InstantlyError) as info:
            await transport.request("GET", "/api/v2/leads", retry_safe=False)
        errors.append(info.value)

    assert API_KEY not in repr(transport)
    assert "api_key='***'" in repr(transport)
    assert API_KEY not in repr(vars(transport))
    assert API_KEY not in str(vars(transport))
    for error in errors:
        assert API_KEY not in str(error)
        assert API_KEY not in repr(error)
        assert API_KEY not in repr(getattr(error, "body", ""))
    assert caplog.records  # DEBUG and WARNING lines were captured
    for record in caplog.records:
        assert API_KEY not in record.getMessage()
    assert API_KEY not in caplog.text


async def test_logs_one_debug_line_per_attempt_and_a_warning_per_retry(
    mock_api: aioresponses, make_transport: MakeTransport, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="instantly")
    mock_api.get(LEADS, status=503, headers={"Retry-After": "1"})
    mock_api.get(LEADS, payload={"secret_body": "do-not-log"})
    await make_transport(max_retries=1).request("GET", "/api/v2/leads", retry_safe=True)
    ours = [r for r in caplog.records if r.name == "instantly"]
    debug = [r.getMessage() for r in ours if r.levelno == logging.DEBUG]
    warning = [r.getMessage() for r in ours if r.levelno == logging.WARNING]
    assert debug[0].startswith("GET /api/v2/leads -> 503 in ")
    assert debug[0].endswith("(attempt 1)")
    assert debug[1].endswith("(attempt 2)")
    assert len(debug) == 2
    assert warning == ["GET /api/v2/leads: HTTP 503; retrying in 1.00 s (retry 1 of 1)"]
    assert "do-not-log" not in caplog.text


# --- session lifecycle -------------------------------------------------------------------------


async def test_session_we_create_is_closed_and_one_passed_in_is_not(
    mock_api: aioresponses,
) -> None:
    mock_api.get(LEADS, payload={}, repeat=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        own = Transport(api_key=API_KEY, base_url=BASE_URL, user_agent=USER_AGENT, limiter=None)
        await own.request("GET", "/api/v2/leads", retry_safe=True)
        created = own._link.session
        assert created is not None
        await own.aclose()
        assert created.closed

        async with aiohttp.ClientSession() as session:
            borrowed = Transport(
                api_key=API_KEY,
                base_url=BASE_URL,
                user_agent=USER_AGENT,
                limiter=None,
                session=session,
            )
            await borrowed.request("GET", "/api/v2/leads", retry_safe=True)
            await borrowed.aclose()
            assert not session.closed
            # The key is sent per request, never baked into a session we do not own.
            assert "Authorization" not in session.headers
        del own, borrowed, created
        gc.collect()
    assert not [w for w in caught if issubclass(w.category, ResourceWarning)]


async def test_closed_transport_refuses_requests(make_transport: MakeTransport) -> None:
    transport = make_transport()
    await transport.aclose()
    with pytest.raises(InstantlyError, match="closed"):
        await transport.request("GET", "/api/v2/leads", retry_safe=True)


def test_rejects_bad_settings() -> None:
    with pytest.raises(ValueError, match="api_key"):
        Transport(api_key="", base_url=BASE_URL, user_agent=USER_AGENT, limiter=None)
    with pytest.raises(ValueError, match="timeout"):
        Transport(api_key="k", base_url=BASE_URL, user_agent=USER_AGENT, limiter=None, timeout=0)


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("2", 2.0),
        ("1.5", 1.5),
        ("-3", 0.0),
        ("soon", None),
        ("", None),
        (None, None),
        ("Fri, 01 Jan 2027 00:00:10 GMT", 10.0),
        ("Thu, 31 Dec 2026 23:59:00 GMT", 0.0),
    ],
)
def test_parse_retry_after(
    monkeypatch: pytest.MonkeyPatch, value: str | None, expected: float | None
) -> None:
    monkeypatch.setattr(
        _transport,
        "_wall_clock",
        lambda: datetime.datetime(2027, 1, 1, tzinfo=datetime.UTC).timestamp(),
    )
    assert _transport._parse_retry_after(value) == expected


async def test_callback_result_helper_is_available(
    mock_api: aioresponses, make_transport: MakeTransport
) -> None:
    # A reason phrase the server invents still yields the right class by status.
    mock_api.get(LEADS, callback=lambda url, **kw: CallbackResult(status=404, body=b""))
    with pytest.raises(NotFoundError) as info:
        await make_transport().request("GET", "/api/v2/leads", retry_safe=True)
    assert info.value.body is None
    assert str(info.value) == "404 Not Found (GET /api/v2/leads)"
