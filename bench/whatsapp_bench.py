"""Section 6: WhatsApp webhooks, handled by the desk running as its own process.

Customers post signed webhooks through the fake Graph API (tests/fake_graph), all at
once, each waiting for its answer before its next message: `/new` (answered with the
first question), then texts at that step (answered with the step's notice). Measured:
the webhook's own answer (stored, then 200) and the time from the post to the desk's
reply, and how many webhooks a second the desk handles.
"""

from __future__ import annotations

import asyncio
import socket
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

from bench.harness import BotProcess, TimingFake, desk_argv, desk_env
from tests.fake_graph import FakeGraph


@dataclass
class WhatsAppRun:
    customers: int
    messages: int
    answered: int
    seconds: float
    posts: list[float] = field(default_factory=list)  # webhook call → 200, seconds
    replies: list[float] = field(default_factory=list)  # webhook call → the desk's reply
    refused: int = 0


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


async def _customer(graph: FakeGraph, wa_id: str, texts: int, run: WhatsAppRun) -> None:
    for i in range(texts):
        mark = len(graph.sent_to(wa_id))
        t0 = time.monotonic()
        _wamid, status = await graph.send_text(wa_id, "/new" if i == 0 else f"halo {i}")
        run.posts.append(time.monotonic() - t0)
        if status != 200:
            return
        deadline = t0 + 30.0
        while len(graph.sent_to(wa_id)) <= mark:
            if time.monotonic() > deadline:
                return
            await asyncio.sleep(0.005)
        run.replies.append(time.monotonic() - t0)
        run.answered += 1


async def whatsapp_run(customers: int, texts: int) -> WhatsAppRun:
    with tempfile.TemporaryDirectory(prefix="bench-whatsapp-") as tmp:
        workdir = Path(tmp)
        async with TimingFake() as fake, FakeGraph() as graph:
            port = _free_port()
            graph.webhook_url = f"http://127.0.0.1:{port}/whatsapp"
            env = desk_env(
                fake,
                workdir,
                WEBHOOK_LISTEN="127.0.0.1",
                WEBHOOK_PORT=str(port),
                WHATSAPP_TOKEN=graph.token,
                WHATSAPP_PHONE_NUMBER_ID=graph.phone_id,
                WHATSAPP_APP_SECRET=graph.app_secret,
                WHATSAPP_VERIFY_TOKEN=graph.verify_token,
                WHATSAPP_API_URL=graph.url,
                WHATSAPP_RATE="1000",
            )
            proc = BotProcess("whatsapp", desk_argv(limiter=True), env, workdir)
            try:
                await proc.start(fake)
                run = WhatsAppRun(customers, customers * texts, 0, 0.0)
                numbers = [f"62812{i:08d}" for i in range(customers)]
                start = time.monotonic()
                await asyncio.gather(*(_customer(graph, n, texts, run) for n in numbers))
                run.seconds = time.monotonic() - start
                run.refused = len(graph.refusals)
                return run
            finally:
                await proc.stop()
