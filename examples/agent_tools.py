"""An agent's tool-use loop over the Instantly API, with a scripted stand-in for the model.

The loop is the one an OpenAI or Anthropic tool-use agent runs: give the model the tool
definitions, let it answer with tool calls, run each call with `Toolkit.call`, hand the results
back, repeat until it answers in words. Here the "model" is a small script (no network, no LLM
key) that lists campaigns, adds a lead and replies to an unread email; swap `ScriptedModel` for a
real client and the loop stays the same.

    python examples/agent_tools.py                      # on the embedded mock, seeded here
    instantly mock --port 8080 &                        # or against `instantly mock`:
    INSTANTLY_API_KEY=test python examples/agent_tools.py --base-url http://127.0.0.1:8080

Nothing here reaches the real API unless you point --base-url at it with a real key.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
from typing import Any

from instantly import AsyncInstantly
from instantly.testing import MockInstantly
from instantly.tools import Toolkit

MAX_TURNS = 10


class ScriptedModel:
    """Plays the model's part: reads the conversation, answers with tool calls or with words.

    Messages are in OpenAI's chat shape: the assistant's `tool_calls` carry the arguments as
    JSON text, and each `tool` message carries a call's result as JSON text.
    """

    def __init__(self, tools: list[dict[str, Any]]) -> None:
        self.tools = {t["function"]["name"] for t in tools}
        self.calls = 0

    def respond(self, messages: list[dict[str, Any]]) -> dict[str, Any]:
        last = json.loads(messages[-1]["content"]) if messages[-1]["role"] == "tool" else None
        if last is not None and not last["success"]:
            return {"role": "assistant", "content": f"I stopped: {last['error']}"}
        asked = [m["tool_calls"][0]["function"]["name"] for m in messages if m.get("tool_calls")]
        done = asked[-1] if asked else None
        if done is None:
            return self._call("list_campaigns", {"search": "Spring", "limit": 10})
        if done in ("list_campaigns", "create_campaign"):
            campaigns = last.get("campaigns") or (
                [last["campaign"]] if last.get("campaign") else []
            )
            if not campaigns:  # an empty workspace (e.g. a fresh `instantly mock`): make one
                return self._call(
                    "create_campaign", {"name": "Spring", "campaign_schedule": WEEKDAYS}
                )
            self.campaign = campaigns[0]
            return self._call(
                "create_lead",
                {
                    "campaign": self.campaign["id"],
                    "email": "grace@example.com",
                    "first_name": "Grace",
                    "company_name": "Hopper Labs",
                    "skip_if_in_campaign": True,
                },
            )
        if done == "create_lead":
            self.lead = last
            return self._call("list_emails", {"is_unread": True, "limit": 5})
        if done == "list_emails":
            if not last["emails"]:
                return {"role": "assistant", "content": "Lead added; no unread email to answer."}
            email = last["emails"][0]
            self.answered = email
            return self._call(
                "reply_to_email",
                {
                    "eaccount": email["eaccount"],
                    "reply_to_uuid": email["id"],
                    "subject": f"Re: {email['subject']}",
                    "body_text": "Thanks for asking! Plans start at 10 a seat; shall we talk?",
                },
            )
        return {
            "role": "assistant",
            "content": f"Added {self.lead['email_address']} to {self.campaign['name']!r} and "
            f"replied to {self.answered['lead']!r} ({last['subject']!r}).",
        }

    def _call(self, name: str, arguments: dict[str, Any]) -> dict[str, Any]:
        assert name in self.tools, name
        self.calls += 1
        call = {
            "id": f"call_{self.calls}",
            "type": "function",
            "function": {"name": name, "arguments": json.dumps(arguments)},
        }
        return {"role": "assistant", "content": None, "tool_calls": [call]}


WEEKDAYS = {
    "schedules": [
        {
            "name": "Weekdays",
            "timing": {"from": "09:00", "to": "17:00"},
            "days": {str(d): d in (1, 2, 3, 4, 5) for d in range(7)},
            "timezone": "Etc/GMT+12",
        }
    ]
}


async def run_agent(client: AsyncInstantly, task: str) -> str:
    """The tool-use loop: model, tool calls, results, until the model answers in words."""
    toolkit = Toolkit(client)
    model = ScriptedModel(toolkit.definitions(format="openai"))
    messages: list[dict[str, Any]] = [{"role": "user", "content": task}]
    for _ in range(MAX_TURNS):
        reply = model.respond(messages)
        messages.append(reply)
        if not reply.get("tool_calls"):
            return str(reply["content"])
        for call in reply["tool_calls"]:
            name, arguments = call["function"]["name"], call["function"]["arguments"]
            result = await toolkit.call(name, arguments)  # never raises: errors are results
            print(f"-> {name}({arguments})")
            print(f"   success={result['success']} error={result['error']}")
            messages.append(
                {"role": "tool", "tool_call_id": call["id"], "content": json.dumps(result)}
            )
    return "stopped: too many turns"


TASK = "Add Grace Hopper (grace@example.com) to the Spring campaign and answer the unread email."


async def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", help="an API to use instead of the embedded mock")
    args = parser.parse_args()
    if args.base_url:
        async with AsyncInstantly(
            base_url=args.base_url, api_key=os.environ.get("INSTANTLY_API_KEY")
        ) as client:
            print(await run_agent(client, TASK))
        return
    async with MockInstantly() as mock:
        campaign = mock.state.add_campaign("Spring launch")
        mock.state.add_email(
            lead="ada@example.com",
            subject="Pricing?",
            text="How much is it for a team of five?",
            campaign_id=campaign["id"],
        )
        async with mock.client() as client:
            print(await run_agent(client, TASK))
        assert any(e["subject"] == "Re: Pricing?" for e in mock.state.emails)
        assert any(lead["email"] == "grace@example.com" for lead in mock.state.leads)


if __name__ == "__main__":
    asyncio.run(main())
