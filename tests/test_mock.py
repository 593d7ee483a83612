"""The mock server (instantly.testing) over real loopback sockets: auth, validation, rate limits,
leads and bulk add, pagination, and running it alone."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest

from instantly import AsyncInstantly, AuthenticationError, BadRequestError, NotFoundError
from instantly.testing import MockInstantly, main

KEY = "mock-test-key-0123456789"


@pytest.fixture
async def mock() -> AsyncIterator[MockInstantly]:
    async with MockInstantly(KEY, rate_limit=None) as server:
        yield server


@pytest.fixture
async def client(mock: MockInstantly) -> AsyncInstantly:
    return mock.client(rate_limit=None, max_retries=0)


async def raw(
    mock: MockInstantly,
    method: str,
    path: str,
    *,
    json: Any = None,
    key: str | None = KEY,
    params: dict[str, str] | None = None,
) -> tuple[int, Any]:
    """One request without the SDK (so nothing checks it before it leaves)."""
    headers = {"Authorization": f"Bearer {key}"} if key is not None else {}
    async with (
        aiohttp.ClientSession() as session,
        session.request(method, mock.url + path, json=json, headers=headers, params=params) as r,
    ):
        return r.status, await r.json()


def lead(i: int, **fields: Any) -> dict[str, Any]:
    return {"email": f"person{i}@example.com", "first_name": f"P{i}", **fields}


# --- auth, routing, validation ---------------------------------------------------------------


async def test_missing_or_wrong_key_is_401_with_the_api_error_body(mock: MockInstantly) -> None:
    status, body = await raw(mock, "GET", "/api/v2/lead-lists", key=None)
    assert status == 401
    assert body["statusCode"] == 401 and body["error"] == "Unauthorized"
    assert "API key" in body["message"]
    async with mock.client(api_key="wrong-key", rate_limit=None) as wrong:
        with pytest.raises(AuthenticationError) as caught:
            await wrong.lead_lists.list_page()
    assert "wrong-key" not in str(caught.value)
    assert mock.state.unauthorized == 2
    assert mock.state.by_operation["listLeadList"] == 2


async def test_unknown_route_and_unknown_id_are_404(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    status, body = await raw(mock, "GET", "/api/v2/nothing-here")
    assert status == 404 and body["error"] == "Not Found"
    with pytest.raises(NotFoundError, match="not found"):
        await client.leads.get("00000000-0000-4000-8000-000000000000")


@pytest.mark.parametrize(
    ("method", "path", "payload", "params", "names"),
    [
        # wrong type, deep in an array
        ("POST", "/api/v2/leads/add", "wrong_type", None, "body/leads/1/first_name"),
        # unknown field where the schema is closed
        ("POST", "/api/v2/leads", {"emial": "a@example.com"}, None, "emial"),
        # missing required field
        ("POST", "/api/v2/leads/add", {"campaign_id": "x"}, None, "leads"),
        # bad format
        ("POST", "/api/v2/leads/list", {"limit": 1000}, None, "body/limit"),
        # limit out of range, in the body and in the query
        ("POST", "/api/v2/leads/list", {"limit": 101}, None, "body/limit"),
        ("GET", "/api/v2/lead-lists", None, {"limit": "0"}, "querystring/limit"),
        ("GET", "/api/v2/lead-lists", None, {"limit": "ten"}, "querystring/limit"),
        # more than 1,000 leads
        ("POST", "/api/v2/leads/add", "too_many", None, "body/leads"),
        # x-required-any-of
        ("DELETE", "/api/v2/leads", {"ids": []}, None, "campaign_id or list_id"),
    ],
)
async def test_a_bad_request_is_400_naming_the_field_and_changes_nothing(
    mock: MockInstantly,
    method: str,
    path: str,
    payload: Any,
    params: dict[str, str] | None,
    names: str,
) -> None:
    campaign = mock.state.add_campaign()
    if payload == "wrong_type":
        payload = {"campaign_id": campaign["id"], "leads": [lead(0), lead(1, first_name=5)]}
    elif payload == "too_many":
        payload = {"campaign_id": campaign["id"], "leads": [lead(i) for i in range(1001)]}
    status, body = await raw(mock, method, path, json=payload, params=params)
    assert status == 400, body
    assert body["statusCode"] == 400 and body["error"] == "Bad Request"
    assert names in body["message"]
    assert len(mock.state.leads) == 0
    assert mock.state.bad_requests == 1


async def test_invalid_json_is_400(mock: MockInstantly) -> None:
    async with (
        aiohttp.ClientSession() as session,
        session.post(
            mock.url + "/api/v2/leads/list",
            data=b"{not json",
            headers={"Authorization": f"Bearer {KEY}", "Content-Type": "application/json"},
        ) as r,
    ):
        assert r.status == 400
        assert "JSON" in (await r.json())["message"]


# --- leads -----------------------------------------------------------------------------------


async def test_lead_crud(mock: MockInstantly, client: AsyncInstantly) -> None:
    campaign = mock.state.add_campaign()
    created = await client.leads.create(
        email="Ada@Example.com",
        campaign=campaign["id"],
        first_name="Ada",
        custom_variables={"city": "London", "score": 3},
    )
    assert created.campaign == campaign["id"]
    assert created.company_domain == "Example.com"
    assert created.payload == {"city": "London", "score": 3}
    got = await client.leads.get(created.id)
    assert got.email == "Ada@Example.com" and got.first_name == "Ada"

    updated = await client.leads.update(created.id, first_name="Ada L.", last_name="Lovelace")
    assert (updated.first_name, updated.last_name) == ("Ada L.", "Lovelace")
    cleared = await client.leads.update(created.id, last_name=None)
    assert cleared.last_name is None
    assert mock.state.leads.rows[created.id]["first_name"] == "Ada L."

    deleted = await client.leads.delete(created.id)
    assert deleted.id == created.id
    assert len(mock.state.leads) == 0
    with pytest.raises(NotFoundError):
        await client.leads.get(created.id)


async def test_create_lead_in_an_unknown_campaign_is_404(client: AsyncInstantly) -> None:
    with pytest.raises(NotFoundError, match="Campaign"):
        await client.leads.create(
            email="a@example.com", campaign="0" * 8 + "-0000-4000-8000-" + "0" * 12
        )


async def test_bulk_add_accounts_for_every_lead(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign()
    await client.leads.add(campaign_id=campaign["id"], leads=[lead(100)])
    mock.state.blocklist.add("blocked.example")
    leads = [
        lead(1),  # 0 created
        {"first_name": "No email"},  # 1 invalid: a campaign lead needs an email
        lead(2),  # 2 created
        {"email": "not-an-email"},  # 3 invalid
        {"email": "PERSON1@example.com"},  # 4 repeat of index 0 within the request
        lead(100),  # 5 already in the campaign
        {"email": "x@blocked.example"},  # 6 in the block list
        lead(3, custom_variables={"vip": True}),  # 7 created
        {"email": None},  # 8 invalid, as 1
    ]
    result = await client.leads.add(campaign_id=campaign["id"], leads=leads)
    assert result.total_sent == 9
    assert result.leads_uploaded == 3
    assert result.incomplete_count == 0  # counted for list imports only
    assert result.invalid_email_count == 3
    assert result.duplicate_email_count == 1
    assert result.duplicated_leads == 1
    assert result.in_blocklist == 1
    assert result.skipped_count == 0
    counts = (
        result.leads_uploaded
        + result.incomplete_count
        + result.invalid_email_count
        + result.duplicate_email_count
        + result.duplicated_leads
        + result.in_blocklist
        + result.skipped_count
    )
    assert counts == result.total_sent
    assert [c.index for c in result.created_leads] == [0, 2, 7]
    for created in result.created_leads:
        stored = mock.state.leads.rows[created.id]
        assert stored["email"] == leads[created.index]["email"]
        assert stored["campaign"] == campaign["id"]
    assert len(mock.state.leads) == 4
    assert (await client.leads.get(result.created_leads[2].id)).payload == {"vip": True}


async def test_bulk_add_to_a_list_takes_a_name_without_email(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    lead_list = mock.state.add_lead_list()
    leads = [{"first_name": "Only a name"}, {"company_name": "nothing to identify"}, lead(1)]
    result = await client.leads.add(list_id=lead_list["id"], leads=leads)
    assert [c.index for c in result.created_leads] == [0, 2]
    assert result.incomplete_count == 1
    assert result.invalid_email_count == 0


async def test_bulk_add_honours_the_skip_flags(mock: MockInstantly, client: AsyncInstantly) -> None:
    first, second = mock.state.add_campaign("A"), mock.state.add_campaign("B")
    listed = mock.state.add_lead_list()
    await client.leads.add(campaign_id=first["id"], leads=[lead(1)])
    await client.leads.add(list_id=listed["id"], leads=[lead(2)])

    # Without a flag, a lead of another campaign or list is added again.
    plain = await client.leads.add(campaign_id=second["id"], leads=[lead(1), lead(2)])
    assert plain.leads_uploaded == 2

    third = mock.state.add_campaign("C")
    batch = [lead(1), lead(2), lead(3)]
    in_campaign = await client.leads.add(
        campaign_id=third["id"], leads=batch, skip_if_in_campaign=True
    )
    assert (in_campaign.skipped_count, in_campaign.leads_uploaded) == (2, 1)  # 1, 2 in B
    other = mock.state.add_lead_list("other")
    in_list = await client.leads.add(
        list_id=other["id"], leads=[lead(2), lead(4)], skip_if_in_list=True
    )
    assert (in_list.skipped_count, in_list.leads_uploaded) == (1, 1)
    fourth = mock.state.add_campaign("D")
    in_workspace = await client.leads.add(
        campaign_id=fourth["id"], leads=[lead(4), lead(5)], skip_if_in_workspace=True
    )
    assert (in_workspace.skipped_count, in_workspace.leads_uploaded) == (1, 1)


async def test_bulk_add_needs_one_existing_target(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign, listed = mock.state.add_campaign(), mock.state.add_lead_list()
    with pytest.raises(BadRequestError, match="not both"):
        await client.leads.add(campaign_id=campaign["id"], list_id=listed["id"], leads=[lead(1)])
    with pytest.raises(BadRequestError, match="campaign_id or list_id"):
        await client.leads.add(leads=[lead(1)])
    with pytest.raises(NotFoundError, match="Lead list"):
        await client.leads.add(list_id=campaign["id"], leads=[lead(1)])
    assert len(mock.state.leads) == 0


async def test_list_leads_filters(mock: MockInstantly, client: AsyncInstantly) -> None:
    campaign, listed = mock.state.add_campaign(), mock.state.add_lead_list()
    in_campaign = await client.leads.add(
        campaign_id=campaign["id"],
        leads=[lead(1, company_name="Acme"), lead(2), lead(3, last_name="Acmeson")],
    )
    await client.leads.add(list_id=listed["id"], leads=[lead(4), lead(5)])

    async def emails(**filters: Any) -> list[str]:
        return [x.email async for x in client.leads.list(**filters)]

    assert await emails(campaign=campaign["id"]) == [f"person{i}@example.com" for i in (1, 2, 3)]
    assert await emails(list_id=listed["id"]) == ["person4@example.com", "person5@example.com"]
    assert await emails(search="acme") == ["person1@example.com", "person3@example.com"]
    ids = [in_campaign.created_leads[2].id, in_campaign.created_leads[0].id]
    assert await emails(ids=ids) == ["person3@example.com", "person1@example.com"]
    assert await emails(contacts=["PERSON5@example.com", "person2@example.com"]) == [
        "person2@example.com",
        "person5@example.com",
    ]
    assert await emails(in_campaign=False) == ["person4@example.com", "person5@example.com"]
    assert len(await emails()) == 5


async def test_paging_2500_leads_is_exact_and_stops_on_the_empty_page(
    mock: MockInstantly, client: AsyncInstantly
) -> None:
    campaign = mock.state.add_campaign()
    for start in (0, 1000, 2000):
        batch = [lead(i) for i in range(start, min(start + 1000, 2500))]
        await client.leads.add(campaign_id=campaign["id"], leads=batch)
    seen = [x.id async for x in client.leads.list(campaign=campaign["id"])]
    assert len(seen) == 2500
    assert len(set(seen)) == 2500
    # 25 full pages of 100, each with a cursor, then the empty page that ends the walk.
    assert mock.state.by_operation["listLeads"] == 26

    status, page = await raw(
        mock, "POST", "/api/v2/leads/list", json={"campaign": campaign["id"], "limit": 100}
    )
    assert status == 200 and len(page["items"]) == 100
    # Cursors are opaque: not an item's id, which a client must not build one from.
    assert page["next_starting_after"] not in {x["id"] for x in page["items"]}


async def test_a_cursor_the_api_never_gave_is_400(client: AsyncInstantly) -> None:
    with pytest.raises(BadRequestError, match="starting_after"):
        await client.leads.list_page(starting_after="00000000-0000-4000-8000-000000000000")


# --- rate limits -----------------------------------------------------------------------------


async def burst(client_limit: tuple[int, int] | None, calls: int) -> MockInstantly:
    """`calls` concurrent lead reads from one client against a mock at the API's limits."""
    async with MockInstantly(KEY, rate_limit=(100, 6000)) as mock:
        client = mock.client(rate_limit=client_limit, max_retries=10)
        lead_id = (await client.leads.create(email="a@example.com")).id
        results = await asyncio.gather(*(client.leads.get(lead_id) for _ in range(calls)))
        assert all(r.id == lead_id for r in results)  # every call succeeded
        stats: Any = client.stats
        assert stats.rate_limited == mock.state.rate_limited
        return mock


async def test_a_burst_of_500_calls_the_client_limiter_keeps_429s_rare() -> None:
    mock = await burst((100, 6000), 500)
    # Only jitter can push a request into the previous second's window at the mock's end (on a
    # loaded machine, a few percent); without the client's limiter it is one call in five.
    assert mock.state.rate_limited <= 25
    assert mock.state.requests - mock.state.rate_limited == 501


async def test_without_a_client_limiter_the_mock_answers_429_and_the_client_retries() -> None:
    mock = await burst(None, 200)
    assert mock.state.rate_limited >= 90  # the second hundred, at least once each
    assert mock.state.requests - mock.state.rate_limited == 201


async def test_429_carries_retry_after_and_the_api_error_body() -> None:
    async with MockInstantly(KEY, rate_limit=(1, None)) as mock:
        assert (await raw(mock, "GET", "/api/v2/lead-lists"))[0] == 200
        async with (
            aiohttp.ClientSession() as session,
            session.get(
                mock.url + "/api/v2/lead-lists", headers={"Authorization": f"Bearer {KEY}"}
            ) as r,
        ):
            assert r.status == 429
            assert r.headers["Retry-After"] == "1"
            body = await r.json()
        assert body["statusCode"] == 429 and body["error"] == "Too Many Requests"
        assert mock.state.rate_limited == 1


async def test_per_endpoint_limit_applies_on_top_of_the_workspace_one() -> None:
    # GET /api/v2/emails allows 20 a minute.
    async with MockInstantly(KEY, rate_limit=(None, None)) as mock:
        statuses = [(await raw(mock, "GET", "/api/v2/emails"))[0] for _ in range(21)]
        assert statuses == [200] * 20 + [429]
        assert (await raw(mock, "GET", "/api/v2/lead-lists"))[0] == 200


# --- running it -----------------------------------------------------------------------------


async def test_latency_is_added_to_each_answer_and_requests_overlap() -> None:
    async with MockInstantly(KEY, rate_limit=None, latency=0.2) as mock:
        loop = asyncio.get_running_loop()
        started = loop.time()
        await asyncio.gather(*(raw(mock, "GET", "/api/v2/lead-lists") for _ in range(10)))
        took = loop.time() - started
    assert 0.2 <= took < 1.0


async def test_the_pytest_fixture_yields_a_started_mock(instantly_mock: MockInstantly) -> None:
    async with instantly_mock.client() as client:
        page = await client.lead_lists.list_page()
    assert page.items == []
    assert instantly_mock.state.requests == 1


def test_python_m_instantly_testing_prints_its_url_and_stops_on_sigterm() -> None:
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "instantly.testing",
            "--port",
            "0",
            "--api-key",
            KEY,
            "--rate-limit",
            "100,6000",
            "--latency",
            "0",
            "--seed",
            "1",
        ],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert proc.stdout is not None
        line = proc.stdout.readline()
        assert line.startswith("listening on http://127.0.0.1:")
        url = line.split()[-1]

        async def call() -> int:
            async with (
                aiohttp.ClientSession() as session,
                session.get(
                    url + "/api/v2/lead-lists", headers={"Authorization": f"Bearer {KEY}"}
                ) as r,
            ):
                return r.status

        assert asyncio.run(call()) == 200
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(timeout=10) == 0
        assert proc.stdout.read() == ""  # exactly one line
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        if proc.stdout is not None:
            proc.stdout.close()


def test_main_refuses_a_bad_rate_limit(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as caught:
        main(["--rate-limit", "fast"])
    assert caught.value.code == 2
    assert "PER_SECOND,PER_MINUTE" in capsys.readouterr().err


def test_the_key_stays_out_of_the_repr() -> None:
    assert KEY not in repr(MockInstantly(KEY))


def test_the_pytest_plugin_loads_without_the_sdk() -> None:
    # Every pytest run of a project that installs the SDK imports the plugin: it must stay light.
    code = (
        "import sys, instantly.testing.pytest_plugin; "
        "print(sorted(m for m in sys.modules if m.startswith('instantly.')))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = out.stdout
    assert "instantly._generated.models" not in loaded
    assert "instantly._client" not in loaded
