"""Redirects: followed only on the API's origin and only where the request stays what it was.

Against real servers on 127.0.0.1 (two ports are two origins), and aioresponses for https.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from aiohttp import web
from aioresponses import aioresponses
from local_server import LocalServer

from instantly import AsyncInstantly, RedirectError
from instantly.errors import APIError

KEY = "sk-redirect-test-KEY-13579"
SEEDS = Path(__file__).parent / "fixtures" / "seeds"
LEAD = {
    **json.loads((SEEDS / "lead_page_list_leads.json").read_text())["items"][0],
    "id": "L1",
    "email": "ada@example.com",
}


@pytest.fixture
async def other() -> AsyncIterator[LocalServer]:
    """Another origin, answering every request as if it had worked."""

    async def ok(request: web.Request) -> web.StreamResponse:
        return web.json_response({"status": "success", "leads_uploaded": 1, **LEAD})

    async with LocalServer(ok) as server:
        yield server


def client_for(server: LocalServer) -> AsyncInstantly:
    return AsyncInstantly(api_key=KEY, base_url=server.url, rate_limit=None, max_retries=0)


async def test_a_redirect_to_another_origin_is_not_followed(other: LocalServer) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=307, headers={"Location": f"{other.url}/api/v2/leads"})

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError) as info:
            await client.leads.create(email="ada@example.com")
    assert other.seen == []  # the lead's data and the key went nowhere else
    error = info.value
    assert isinstance(error, APIError)
    assert error.status_code == 307
    assert error.location == f"{other.url}/api/v2/leads"
    assert "another origin" in str(error) and other.url in str(error)
    assert (error.method, error.path) == ("POST", "/api/v2/leads")


async def test_a_redirect_to_another_port_of_the_same_host_is_another_origin(
    other: LocalServer,
) -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=302, headers={"Location": f"{other.url}{request.path}"})

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError, match="another origin"):
            await client.leads.get("L1")
    assert other.seen == []


async def test_https_to_http_is_not_followed_even_on_the_same_host() -> None:
    base = "https://api.instantly.test"
    async with AsyncInstantly(api_key=KEY, base_url=base, rate_limit=None) as client:
        with aioresponses() as mock:
            mock.post(
                f"{base}/api/v2/leads/add",
                status=308,
                headers={"Location": "http://api.instantly.test/api/v2/leads/add"},
            )
            mock.post("http://api.instantly.test/api/v2/leads/add", payload={"status": "ok"})
            with pytest.raises(RedirectError, match="from https to plain http") as info:
                await client.leads.add(leads=[{"email": "ada@example.com"}], campaign_id="C1")
            requested = [str(url) for (_, url) in mock.requests]
    assert requested == [f"{base}/api/v2/leads/add"]
    assert info.value.location == "http://api.instantly.test/api/v2/leads/add"


@pytest.mark.parametrize("status", [301, 302, 303])
async def test_a_post_is_never_turned_into_a_get(status: int) -> None:
    """The case that made "1 created" out of nothing: the GET's answer taken for the POST's."""

    async def handler(request: web.Request) -> web.StreamResponse:
        if request.method == "POST":
            return web.Response(status=status, headers={"Location": "/api/v2/leads/elsewhere"})
        return web.json_response({"status": "success", "leads_uploaded": 1})

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError, match=f"answered {status} to a POST") as info:
            await client.leads.add(leads=[{"email": "ada@example.com"}], campaign_id="C1")
        assert [s.method for s in api.seen] == ["POST"]
    assert info.value.location == f"{api.url}/api/v2/leads/elsewhere"


async def test_a_same_origin_307_on_a_post_keeps_method_and_body() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/api/v2/leads":
            return web.Response(status=307, headers={"Location": "/api/v2/leads-moved"})
        return web.json_response(LEAD)

    async with LocalServer(handler) as api, client_for(api) as client:
        lead = await client.leads.create(email="ada@example.com", first_name="Ada")
    assert lead.id == "L1"
    first, second = api.seen
    assert (first.method, second.method) == ("POST", "POST")
    assert second.raw_path == "/api/v2/leads-moved"
    assert (
        json.loads(second.body)
        == json.loads(first.body)
        == {
            "email": "ada@example.com",
            "first_name": "Ada",
        }
    )
    assert second.headers["Authorization"] == f"Bearer {KEY}"
    assert client.stats.requests_sent == 2


async def test_a_same_origin_301_on_a_get_is_followed() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        if request.path == "/api/v2/leads/L1":
            return web.Response(status=301, headers={"Location": "/api/v2/leads/L1/"})
        return web.json_response(LEAD)

    async with LocalServer(handler) as api, client_for(api) as client:
        lead = await client.leads.get("L1")
    assert lead.email == "ada@example.com"
    assert [s.raw_path for s in api.seen] == ["/api/v2/leads/L1", "/api/v2/leads/L1/"]


async def test_a_redirect_loop_ends_with_an_error_naming_it() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        to = "/b" if request.path != "/b" else "/api/v2/leads/L1"
        return web.Response(status=307, headers={"Location": to})

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError, match="loop back to") as info:
            await client.leads.get("L1")
    assert len(api.seen) == 2
    assert info.value.location == f"{api.url}/api/v2/leads/L1"


async def test_a_chain_of_redirects_is_cut_after_a_few() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        hop = int(request.query.get("hop", "0"))
        return web.Response(status=307, headers={"Location": f"/next?hop={hop + 1}"})

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError, match="more than 5 redirects"):
            await client.leads.get("L1")
    assert len(api.seen) == 6


@pytest.mark.parametrize(
    ("headers", "words"),
    [({}, "without a Location"), ({"Location": "/x"}, "does not follow")],
)
async def test_other_3xx_answers_raise(headers: dict[str, str], words: str) -> None:
    status = 304 if headers else 302

    async def handler(request: web.Request) -> web.StreamResponse:
        return web.Response(status=status, headers=headers)

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError, match=words) as info:
            await client.leads.get("L1")
    assert info.value.status_code == status


async def test_a_location_with_user_info_is_not_followed() -> None:
    async def handler(request: web.Request) -> web.StreamResponse:
        host = request.host
        return web.Response(status=307, headers={"Location": f"http://user:pw@{host}/x"})

    async with LocalServer(handler) as api, client_for(api) as client:
        with pytest.raises(RedirectError, match="user info"):
            await client.leads.get("L1")
    assert len(api.seen) == 1
