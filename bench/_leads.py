"""Lead data of the benchmarks: leads to import, and full Lead objects as the API returns them.

Standard library only: the peer SDK's venv imports this too.
"""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

__all__ = ["SEED_LEAD", "full_leads", "new_lead", "new_leads"]

SEED_LEAD = Path(__file__).resolve().parent.parent / "tests/fixtures/seeds/lead_get_lead.json"
"""A real `GET /api/v2/leads/{id}` body from the vendor's reference: every field of a Lead."""

_FIRST = ("Ada", "Grace", "Alan", "Edsger", "Barbara", "Donald", "Margaret", "Ken", "Frances")
_LAST = ("Lovelace", "Hopper", "Turing", "Dijkstra", "Liskov", "Knuth", "Hamilton", "Thompson")
_COMPANY = ("Acme Corp", "Globex", "Initech", "Umbrella", "Hooli", "Vandelay Industries")
_INDUSTRY = ("software", "logistics", "retail", "healthcare", "finance")


def new_lead(i: int) -> dict[str, Any]:
    """The i-th lead to import, shaped like a row of a CSV export: a unique email, a name, a
    company, a personalization line and a few custom variables (about 400 bytes of JSON)."""
    first = _FIRST[i % len(_FIRST)]
    last = _LAST[i % len(_LAST)]
    company = _COMPANY[i % len(_COMPANY)]
    domain = f"{company.split()[0].lower()}{i % 1000}.example.com"
    return {
        "email": f"{first.lower()}.{last.lower()}.{i}@{domain}",
        "first_name": first,
        "last_name": last,
        "company_name": company,
        "website": f"https://{domain}",
        "phone": f"+1555{i % 10_000_000:07d}",
        "personalization": f"Hi {first}, I saw {company} is hiring: congratulations.",
        "custom_variables": {
            "industry": _INDUSTRY[i % len(_INDUSTRY)],
            "employees": 10 + i % 5000,
            "source": "benchmark",
        },
    }


def new_leads(count: int, start: int = 0) -> Iterator[dict[str, Any]]:
    """`count` leads to import, made one at a time (so a million never sit in memory at once)."""
    for i in range(start, start + count):
        yield new_lead(i)


def full_leads(count: int, page_size: int = 100) -> list[dict[str, Any]]:
    """`count` distinct full Lead objects, as `json.loads` returns them from pages of the API.

    Each is the seed lead with its own id, email, names, counters, interest status and creation
    time. They go through JSON a page (`page_size` leads) at a time, as a list response does:
    leads of one page share their key strings (the JSON decoder memoizes keys within a
    document), leads of different pages do not, and no two share a nested object.
    """
    seed = json.loads(SEED_LEAD.read_text())
    varied = []
    for i in range(count):
        lead = dict(seed)
        lead["id"] = str(uuid.UUID(int=i + 1, version=4))
        lead["email"] = f"lead{i}@example{i % 100}.com"
        lead["first_name"] = _FIRST[i % len(_FIRST)]
        lead["last_name"] = _LAST[i % len(_LAST)]
        lead["company_name"] = _COMPANY[i % len(_COMPANY)]
        lead["email_open_count"] = i % 7
        lead["email_reply_count"] = i % 3
        lead["lt_interest_status"] = (0, 1, 2, 3, -1)[i % 5]
        lead["timestamp_created"] = f"2025-03-{1 + i % 28:02d}T02:18:{i % 60:02d}.371Z"
        varied.append(lead)
    leads: list[dict[str, Any]] = []
    for start in range(0, count, page_size):
        leads.extend(json.loads(json.dumps(varied[start : start + page_size])))
    return leads
