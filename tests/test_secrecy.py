"""The API key never travels with an exception: not in its str or repr, not in its causes, not in
the local variables a traceback reporter records, not in what the server echoes back.

Each scenario runs against a real server on 127.0.0.1 that echoes the key it received (from the
Authorization header) in some form; `assert_key_absent` then looks for every form of the key in
everything a user or a reporter (Sentry, `TracebackException(capture_locals=True)`) would see.
"""

from __future__ import annotations

import asyncio
import json
import re
import traceback
from collections.abc import AsyncIterator, Iterator
from urllib.parse import quote, quote_plus

import aiohttp
import pytest
from aiohttp import web
from local_server import LocalServer, RawServer

from instantly import AsyncInstantly
from instantly.errors import (
    APIConnectionError,
    APIError,
    AuthenticationError,
    InstantlyError,
    NotFoundError,
    RedirectError,
)

# A key with characters that JSON and URL encodings write differently.
KEY = "sk-live/SECRET+key=9f8e7d6c5b4a"


def forms(key: str) -> set[str]:
    """The key as it could show in text: plain, JSON-escaped, URL-encoded."""
    return {
        key,
        key.replace("/", "\\/"),
        "".join(f"\\u{ord(c):04x}" for c in key),
        quote(key, safe=""),
        lower_hex(quote(key, safe="")),
        quote_plus(key),
    }


def lower_hex(encoded: str) -> str:
    return re.sub(r"%[0-9A-F]{2}", lambda m: m.group(0).lower(), encoded)


def chain(exc: BaseException) -> Iterator[BaseException]:
    seen: list[BaseException] = []
    todo = [exc]
    while todo:
        item = todo.pop()
        if any(item is s for s in seen):
            continue
        seen.append(item)
        yield item
        todo.extend(e for e in (item.__cause__, item.__context__) if e is not None)


def assert_key_absent(exc: BaseException, key: str = KEY) -> None:
    """No form of the key in the exceptions of the chain, nor in the locals of any frame a
    reporter records, except the test's own (which hold the key because the test made it)."""
    texts = []
    for item in chain(exc):
        texts += [str(item), repr(item), repr(item.args)]
        texts += [repr(v) for v in vars(item).values()]
        report = traceback.TracebackException(
            type(item), item, item.__traceback__, capture_locals=True
        )
        for frame in report.stack:
            if frame.filename != __file__:
                texts.append(f"{frame.filename}:{frame.lineno} {frame.locals}")
    report = traceback.TracebackException(type(exc), exc, exc.__traceback__, capture_locals=False)
    texts.append("".join(report.format()))
    for text in texts:
        for form in forms(key):
            at = text.find(form)
            assert at < 0, f"{form!r} found in {text[max(0, at - 1500) : at + 100]!r}"


def sent_key(request: web.Request) -> str:
    return request.headers["Authorization"].removeprefix("Bearer ")


@pytest.fixture(params=["own session", "borrowed session"])
async def session(request: pytest.FixtureRequest) -> AsyncIterator[aiohttp.ClientSession | None]:
    """Both ways the request headers are built: in our session, or per request."""
    if request.param == "own session":
        yield None
    else:
        async with aiohttp.ClientSession() as borrowed:
            yield borrowed


def client_for(url: str, session: aiohttp.ClientSession | None) -> AsyncInstantly:
    return AsyncInstantly(
        api_key=KEY, base_url=url, rate_limit=None, max_retries=0, session=session
    )


def echoing(head: str) -> RawServer:
    """A raw server answering `head` with the key after it (not kept in a test's locals)."""
    return RawServer(head.format(key=KEY).encode())


async def test_a_malformed_status_line_echoing_the_key(
    session: aiohttp.ClientSession | None,
) -> None:
    server = echoing("HTTP/1.1 2x0 {key}\r\nContent-Length: 0\r\n\r\n")
    async with server as raw, client_for(raw.url, session) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.leads.get("L1")
    assert raw.requests == 1
    error = info.value
    assert "Bad status line" in str(error)
    # The cause is kept (its type tells what broke), with the headers redacted.
    assert isinstance(error.__cause__, aiohttp.ClientResponseError)
    assert error.__cause__.request_info.headers["Authorization"] == "***"
    assert_key_absent(error)


async def test_a_redirect_loop_echoing_the_key(session: aiohttp.ClientSession | None) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        to = "/a" if request.path != "/a" else "/b"
        key = sent_key(request)
        return web.Response(
            status=308, text=f"moved, {key}", headers={"Location": to, "X-Echo": key}
        )

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        with pytest.raises(RedirectError, match="loop") as info:
            await client.leads.get("L1")
    assert len(api.seen) == 3
    assert info.value.body == "moved, ***"
    assert_key_absent(info.value)


async def test_a_redirect_to_a_url_carrying_the_key_is_not_followed(
    session: aiohttp.ClientSession | None,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": f"/b?k={sent_key(request)}"})

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        with pytest.raises(RedirectError, match="carries the API key") as info:
            await client.leads.get("L1")
    assert len(api.seen) == 1
    assert info.value.location == f"{api.url}/b?k=***"
    assert_key_absent(info.value)


ECHOES = {
    "plain": lambda key: key,
    "json-escaped": lambda key: "".join(f"\\u{ord(c):04x}" for c in key),
    "json-slash-escaped": lambda key: key.replace("/", "\\/"),
    "url-encoded": lambda key: quote(key, safe=""),
    "url-encoded-lower": lambda key: lower_hex(quote(key, safe="")),
    "form-encoded": lambda key: quote_plus(key),
}


@pytest.mark.parametrize("form", sorted(ECHOES))
async def test_a_json_error_echoing_the_key(
    form: str, session: aiohttp.ClientSession | None
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        echoed = ECHOES[form](sent_key(request))
        text = (
            '{"statusCode": 401, "error": "Unauthorized", '
            f'"message": "bad key {echoed}", "{echoed}": ["{echoed}"]}}'
        )
        headers = {"x-request-id": f"req-{echoed}"}
        return web.Response(status=401, text=text, content_type="application/json", headers=headers)

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        with pytest.raises(AuthenticationError) as info:
            await client.leads.get("L1")
    error = info.value
    assert error.message.startswith("bad key ")
    assert error.request_id is not None and error.request_id.startswith("req-")
    assert isinstance(error.body, dict)
    assert_key_absent(error)


@pytest.mark.parametrize("form", ["plain", "json-slash-escaped", "url-encoded", "form-encoded"])
async def test_a_text_error_echoing_the_key(
    form: str, session: aiohttp.ClientSession | None
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        # The key sits across the 500th character, where the excerpt is cut.
        text = "x" * 490 + ECHOES[form](sent_key(request)) + " and more"
        return web.Response(status=502, text=text, content_type="text/plain")

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        with pytest.raises(APIError) as info:
            await client.leads.get("L1")
    assert_key_absent(info.value)
    body = info.value.body
    assert isinstance(body, str)
    for cut in range(6, len(KEY)):  # no piece of the key survives the cut either
        assert KEY[:cut] not in body


async def test_invalid_json_on_200_echoing_the_key(session: aiohttp.ClientSession | None) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(text=f"{{oops {sent_key(request)}", content_type="application/json")

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        with pytest.raises(APIError, match="not valid JSON") as info:
            await client.leads.get("L1")
    assert info.value.body == "{oops ***"
    assert_key_absent(info.value)


async def test_an_error_object_in_a_200_echoing_the_key(
    session: aiohttp.ClientSession | None,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        body = {"statusCode": 404, "error": "Not Found", "message": f"no {sent_key(request)}"}
        return web.Response(
            text=json.dumps(body).replace("/", "\\/"), content_type="application/json"
        )

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        with pytest.raises(NotFoundError) as info:
            await client.leads.get("L1")
    assert info.value.message == "no ***"
    assert_key_absent(info.value)


async def test_a_connection_cut_mid_answer(session: aiohttp.ClientSession | None) -> None:
    server = echoing("HTTP/1.1 200 OK\r\nContent-Length: 1000\r\nX-Echo: {key}\r\n\r\n{{")
    async with server as raw, client_for(raw.url, session) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.leads.get("L1")
    assert_key_absent(info.value)


async def test_a_cancelled_request_leaves_no_key_in_its_traceback(
    session: aiohttp.ClientSession | None,
) -> None:
    arrived = asyncio.Event()
    release = asyncio.Event()

    async def handler(request: web.Request) -> web.StreamResponse:
        arrived.set()
        await release.wait()
        return web.Response(status=204)

    async with LocalServer(handler) as api, client_for(api.url, session) as client:
        task = asyncio.create_task(client.leads.get("L1"))
        await arrived.wait()
        task.cancel()
        with pytest.raises(asyncio.CancelledError) as info:
            await task
        release.set()
    assert_key_absent(info.value)


async def test_a_connection_refused(session: aiohttp.ClientSession | None) -> None:
    async with RawServer(b"") as raw:
        url = raw.url  # closed when the block ends: nothing listens there any more
    async with client_for(url, session) as client:
        with pytest.raises(APIConnectionError) as info:
            await client.leads.get("L1")
    assert_key_absent(info.value)


@pytest.mark.parametrize(
    ("key", "words"),
    [
        (KEY + "\n", "ends with a line break"),
        (KEY + "\r\n", "ends with a line break"),
        (" " + KEY, "starts or ends with whitespace"),
        (KEY[:5] + " " + KEY[5:], "contains whitespace (character 6 of"),
        (KEY[:5] + "\n" + KEY[5:], "contains a line break"),
        (KEY + "\x00", "control character"),
        (KEY + "\u200b", "non-ASCII"),
    ],
)
def test_a_key_with_whitespace_or_control_characters_is_refused(key: str, words: str) -> None:
    with pytest.raises(ValueError, match="api_key") as info:
        AsyncInstantly(api_key=key)
    assert words in str(info.value)
    assert_key_absent(info.value, KEY)


def test_a_key_from_the_environment_is_checked_too(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("INSTANTLY_API_KEY", KEY + "\n")
    with pytest.raises(ValueError, match=r"\$INSTANTLY_API_KEY ends with a line break") as info:
        AsyncInstantly()
    assert_key_absent(info.value)


def test_other_construction_errors_leave_no_key_in_locals() -> None:
    with pytest.raises(ValueError, match="base_url") as info:
        AsyncInstantly(api_key=KEY, base_url="https://api.instantly.ai@evil.example")
    assert_key_absent(info.value)
    with pytest.raises(ValueError, match="timeout") as info:
        AsyncInstantly(api_key=KEY, timeout=0)
    assert_key_absent(info.value)


async def test_the_client_and_its_parts_never_show_the_key() -> None:
    async with AsyncInstantly(api_key=KEY) as client:
        transport = client._transport
        for shown in (client, transport, transport._credentials, transport._credentials.plain):
            for form in forms(KEY):
                assert form not in repr(shown)
        assert repr(transport._credentials.with_body) == "'***'"


def test_the_error_classes_say_what_they_hold() -> None:
    # Nothing above would mean much if an exception could hold headers: none has such a field.
    for cls in (APIError, APIConnectionError, RedirectError):
        assert issubclass(cls, InstantlyError)
        assert "headers" not in cls.__annotations__
