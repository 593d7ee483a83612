"""examples/reply_bot.py end to end, on one machine: a lead's reply arrives in the mock -> the mock
delivers the webhook -> the bot (a real process) labels the lead and answers with emails.reply ->
the answer is in the lead's thread in the mock. Then SIGTERM stops the bot cleanly."""

from __future__ import annotations

import asyncio
import os
import signal
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any

from instantly.testing import MockInstantly

BOT = Path(__file__).resolve().parent.parent / "examples" / "reply_bot.py"
SECRET = "bot-Secret-31337"


async def wait_for(condition: Callable[[], bool], seconds: float = 30.0) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + seconds
    while not condition():
        assert loop.time() < deadline, "the bot did not do its work in time"
        await asyncio.sleep(0.05)


async def test_the_reply_bot_answers_a_reply_end_to_end() -> None:
    async with MockInstantly("k") as mock:
        env = {
            **os.environ,
            "INSTANTLY_API_KEY": "k",
            "INSTANTLY_BASE_URL": mock.url,
            "WEBHOOK_SECRET": SECRET,
        }
        bot = await asyncio.create_subprocess_exec(
            sys.executable,
            str(BOT),
            "--port",
            "0",
            stdout=asyncio.subprocess.PIPE,
            stderr=asyncio.subprocess.PIPE,
            env=env,
        )
        try:
            assert bot.stdout is not None
            line = (await asyncio.wait_for(bot.stdout.readline(), 30)).decode()
            assert line.startswith("listening on http://127.0.0.1:"), line
            url = line.split()[-1]

            client = mock.client()
            await client.webhooks.create(
                target_hook_url=url,
                event_type="reply_received",
                headers={"X-Instantly-Secret": SECRET},
            )
            state = mock.state
            campaign = state.add_campaign("Launch")
            leads = {
                name: state.add_lead(f"{name}@example.com", campaign=campaign["id"])
                for name in ("ada", "bob", "cy", "dee")
            }
            for lead in leads.values():
                state.send_email(lead, "Launch", "Hi! Do you have a minute this week?")
            replies = {
                "ada": state.receive_reply(leads["ada"], "Yes, interested! Let's talk."),
                "bob": state.receive_reply(leads["bob"], "Not interested, remove me."),
                "cy": state.receive_reply(leads["cy"], "I am out of office until Monday."),
                "dee": state.receive_reply(leads["dee"], "Who is this?"),
            }

            def answers() -> list[dict[str, Any]]:
                return [e for e in state.emails if e.get("ue_type") == 3]

            await wait_for(
                lambda: len(answers()) == 2 and leads["cy"].get("lt_interest_status") == 0
            )
            await mock.drain_webhooks()
        finally:
            bot.send_signal(signal.SIGTERM)
            out, err = await asyncio.wait_for(bot.communicate(), 30)
        assert bot.returncode == 0, err.decode()
        assert out.decode().splitlines()[-1] == "stopped; answered 2 replies"

        by_lead = {e["lead"]: e for e in answers()}
        answer = by_lead["ada@example.com"]
        received = replies["ada"]
        assert answer["thread_id"] == received["thread_id"]  # in the lead's thread
        assert answer["reply_to"] == received["message_id"]
        assert answer["subject"] == "Re: Launch"
        assert answer["to_address_email_list"] == "ada@example.com"
        assert answer["eaccount"] == received["eaccount"]
        assert "calendar" in answer["body"]["text"]
        assert "will not write again" in by_lead["bob@example.com"]["body"]["text"]
        assert [leads[n].get("lt_interest_status") for n in ("ada", "bob", "cy", "dee")] == [
            1,
            -1,
            0,
            None,
        ]
        # Every delivery reached the bot on the first try, secret and all.
        assert len(state.webhook_events) == 4
        assert all(e["success"] for e in state.webhook_events)
        # The bot's own answers are not received emails: a watcher of replies never sees them.
        received_ids = [e.id async for e in client.emails.list(email_type="received")]
        assert {a["id"] for a in answers()}.isdisjoint(received_ids)
