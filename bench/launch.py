"""The app in a process of its own for a bench: `odop-sync …` commands and `odop-sync serve`,
with no stdin, and never outliving the bench (terminated on the way out, on SIGTERM/SIGINT, and
on Linux killed by the kernel if the bench itself dies without cleaning up)."""

from __future__ import annotations

import asyncio
import ctypes
import os
import signal
import socket
import subprocess
import sys
from pathlib import Path
from types import FrameType

import httpx

ROOT = Path(__file__).resolve().parents[1]
PR_SET_PDEATHSIG = 1


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


# Looked up here, in the parent: the child, between fork and exec, only makes the call.
_PRCTL = ctypes.CDLL(None).prctl if sys.platform.startswith("linux") else None


def _die_with_parent() -> None:  # pragma: no cover - runs in the child before exec
    if _PRCTL is not None:
        _PRCTL(PR_SET_PDEATHSIG, signal.SIGTERM)


def app_env(database_url: str, **extra: str) -> dict[str, str]:
    """Development settings (what `make run` uses) pointed at the bench's database."""
    return {
        **os.environ,
        "ODOP_ENV": "development",
        "ODOP_DATABASE_URL": database_url,
        "ODOP_LOG_LEVEL": "WARNING",
        **extra,
    }


def run_cli(env: dict[str, str], cwd: Path, *args: str) -> str:
    """`odop-sync ARGS` to completion; its standard output (it fails loudly, with its stderr)."""
    out = subprocess.run(
        [sys.executable, "-m", "odop_sync.cli", *args],
        cwd=cwd,
        env=env,
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    if out.returncode:
        raise RuntimeError(f"odop-sync {' '.join(args)} failed:\n{out.stdout}\n{out.stderr}")
    return out.stdout.strip()


def terminate_on_signals() -> None:
    """SIGTERM (and SIGHUP) end the bench like Ctrl-C does, so every `finally` runs."""

    def stop(signum: int, _frame: FrameType | None) -> None:
        raise KeyboardInterrupt(f"signal {signum}")

    for sig in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(sig, stop)


class Serve:
    """`odop-sync serve --port PORT` (output in `log`), ready once /readyz answers 200."""

    def __init__(self, env: dict[str, str], port: int, log: Path) -> None:
        self.env, self.port, self.log = env, port, log
        self.url = f"http://127.0.0.1:{port}"
        self.proc: subprocess.Popen[bytes] | None = None

    async def __aenter__(self) -> Serve:
        with self.log.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", "odop_sync.cli", "serve", "--port", str(self.port)],
                cwd=ROOT,
                env=self.env,
                stdin=subprocess.DEVNULL,
                stdout=out,
                stderr=subprocess.STDOUT,
                preexec_fn=_die_with_parent,  # only a prctl call
            )
        try:
            await self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    async def _wait_ready(self) -> None:
        assert self.proc is not None
        async with httpx.AsyncClient() as client:
            for _ in range(600):
                if self.proc.poll() is not None:
                    raise RuntimeError(f"the server exited:\n{self.tail()}")
                try:
                    if (await client.get(self.url + "/readyz")).status_code == 200:
                        return
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
        raise RuntimeError(f"the server was not ready within 60 s:\n{self.tail()}")

    def tail(self, lines: int = 30) -> str:
        text = self.log.read_text(errors="replace") if self.log.exists() else ""
        return "\n".join(text.splitlines()[-lines:])

    def stop(self) -> None:
        if self.proc is None or self.proc.poll() is not None:
            return
        self.proc.terminate()
        try:
            self.proc.wait(15)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(5)

    async def __aexit__(self, *exc: object) -> None:
        self.stop()
