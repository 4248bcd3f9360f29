"""The service (and a marketplace sandbox) in processes of their own, for the tests that kill
the server with kill -9 and check what a restart makes of it."""

from __future__ import annotations

import asyncio
import os
import signal
import socket
import subprocess
import sys
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from adapters.amazon.sandbox import SANDBOX_SELLER

from tests.conftest import bearer

ROOT = Path(__file__).resolve().parents[1]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def start_server(
    database_url: str, port: int, log: Path, extra_env: dict[str, str] | None = None
) -> subprocess.Popen[bytes]:
    """`odop-sync serve` (API and workers) on `port`, its output appended to `log`."""
    env = {
        **os.environ,
        "ODOP_ENV": "testing",
        "ODOP_DATABASE_URL": database_url,
        "ODOP_JOBS__LEASE_TTL_S": "2",
        "ODOP_JOBS__HEARTBEAT_S": "0.5",
        "ODOP_JOBS__BATCH_CHUNK_ROWS": "100",
        **(extra_env or {}),
    }
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "odop_sync.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


def start_sandbox(
    port: int, log: Path, slug: str = "amazon", time_scale: float = 1.0
) -> subprocess.Popen[bytes]:
    """`odop-sync sandbox serve <slug>` in its own process (it outlives the server's kill)."""
    return subprocess.Popen(  # noqa: S603 - our own CLI
        [
            sys.executable,
            "-m",
            "odop_sync.cli",
            "sandbox",
            "serve",
            slug,
            "--port",
            str(port),
            "--time-scale",
            f"{time_scale:g}",
        ],
        cwd=ROOT,
        stdout=log.open("ab"),
        stderr=subprocess.STDOUT,
    )


async def wait_ready(client: httpx.AsyncClient, proc: subprocess.Popen[bytes]) -> None:
    for _ in range(300):
        assert proc.poll() is None, "server exited"
        try:
            if (await client.get("/readyz")).status_code == 200:
                return
        except httpx.TransportError:
            pass
        await asyncio.sleep(0.1)
    raise AssertionError("server never became ready")


async def sandbox_state(sandbox: httpx.AsyncClient, seller: str = SANDBOX_SELLER) -> dict[str, Any]:
    """What a sandbox served on its own holds for `seller` (its state endpoint)."""
    r = await sandbox.get(f"/_sandbox/state/{seller}")
    assert r.status_code == 200, r.text
    body: dict[str, Any] = r.json()
    return body


@dataclass
class Served:
    """A running server process (and its sandbox's), with a client for each."""

    database_url: str
    port: int
    log: Path
    env: dict[str, str]
    client: httpx.AsyncClient
    proc: subprocess.Popen[bytes]
    sandbox: httpx.AsyncClient | None = None
    sandbox_url: str = ""
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def kill(self) -> None:
        """kill -9: no shutdown, no rollback but the database's own."""
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        """A clean shutdown (SIGTERM)."""
        self.proc.terminate()
        self.proc.wait(15)

    def start(self) -> None:
        """A new server process on the same port and database (not waiting for it)."""
        self.proc = start_server(self.database_url, self.port, self.log, self.env)
        self.procs.append(self.proc)

    async def restart(self) -> None:
        self.start()
        await wait_ready(self.client, self.proc)

    async def publish(self, key: str, producers: list[Any], items: list[Any]) -> int:
        """POST /v1/batches; the batch's id."""
        body = {"producers": producers, "items": items}
        r = await self.client.post("/v1/batches", json=body, headers=bearer(key))
        assert r.status_code == 202, r.text
        return int(r.json()["id"])

    async def add_account(
        self, key: str, adapter: str, name: str, credentials: dict[str, Any]
    ) -> int:
        """POST /v1/accounts; the account's id."""
        body = {"adapter": adapter, "name": name, "credentials": credentials}
        r = await self.client.post("/v1/accounts", json=body, headers=bearer(key))
        assert r.status_code == 201, r.text
        return int(r.json()["id"])


@asynccontextmanager
async def served(
    database_url: str,
    tmp_path: Path,
    *,
    env: dict[str, str] | None = None,
    sandbox: tuple[str, float] | None = None,
    timeout: float = 30,
) -> AsyncIterator[Served]:
    """The server (ready) and, with `sandbox=(slug, time_scale)`, that marketplace's sandbox,
    each in a process of its own; every process still running is terminated on the way out."""
    procs: list[subprocess.Popen[bytes]] = []
    try:
        async with AsyncExitStack() as stack:
            box, sandbox_url = None, ""
            if sandbox is not None:
                slug, scale = sandbox
                sandbox_port = free_port()
                procs.append(start_sandbox(sandbox_port, tmp_path / "sandbox.log", slug, scale))
                sandbox_url = f"http://127.0.0.1:{sandbox_port}"
                box = await stack.enter_async_context(httpx.AsyncClient(base_url=sandbox_url))
                # The operator's setting that stands the sandbox in for the marketplace's hosts.
                env = {**(env or {}), f"ODOP_MARKETPLACE_HOSTS__{slug.upper()}": sandbox_url}
            port = free_port()
            client = await stack.enter_async_context(
                httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=timeout)
            )
            log = tmp_path / "server.log"
            proc = start_server(database_url, port, log, env)
            procs.append(proc)
            server = Served(
                database_url, port, log, dict(env or {}), client, proc, box, sandbox_url, procs
            )
            await wait_ready(client, proc)
            yield server
    finally:
        for proc in procs:
            if proc.poll() is None:
                proc.terminate()
                proc.wait(10)
