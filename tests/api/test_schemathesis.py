"""Property-based API testing: schemathesis generates requests from the app's own OpenAPI
document and checks that no input makes the server fail (5xx) or answer outside its schema.

Two phases: every operation on its own (generated cases), then the stateful phase, which chains
operations along the links schemathesis infers from the document (a created batch, account or
producer is read back, its id fed to the operations that take one), so inputs reach the code
behind an existing resource, not only the 404 of an unknown id."""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, given, settings
from schemathesis import checks
from schemathesis.generation.stateful.state_machine import StepInput, StepOutput
from sqlalchemy import func, or_, select
from sqlalchemy.ext.asyncio import create_async_engine

from odop_sync.auth.service import create_key
from odop_sync.db import create_sessionmaker, transaction
from odop_sync.kit.time import utcnow
from odop_sync.models import Agency, Job, JobStatus, Role
from tests.api.helpers import PRODUCER, item, wait_for_batch
from tests.conftest import MakeAgency, MakeKey, empty_tables

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ODOP_TEST_SCHEMATHESIS_EXAMPLES", "80"))
# Scenarios of the stateful phase, each of up to STATEFUL_STEPS chained calls.
STATEFUL_EXAMPLES = int(os.environ.get("ODOP_TEST_SCHEMATHESIS_STATEFUL_EXAMPLES", "150"))
STATEFUL_STEPS = 8
# What the API promises: never a server error, and every answer inside its documented status
# codes, content types, headers and schemas. (Business rules beyond JSON Schema, such as the
# GSTIN check character, rightly answer 422 to schema-valid input, so positive-data acceptance
# is not one of the promises.)
CHECKS = [
    checks.not_a_server_error,
    checks.status_code_conformance,
    checks.content_type_conformance,
    checks.response_schema_conformance,
    checks.response_headers_conformance,
]
# And along chains: what a successful POST created can be read back through its link.
STATEFUL_CHECKS = [*CHECKS, checks.ensure_resource_availability]


@contextmanager
def _serve(database_url: str, log: Path, *args: str) -> Iterator[str]:
    """`odop-sync serve` on a free port of its own, on the test database."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    # Sharing the test database: its sync engine would take the accounts of later tests (their
    # leases); the engine is tested in tests/sync.
    env = {
        **os.environ,
        "ODOP_ENV": "testing",
        "ODOP_DATABASE_URL": database_url,
        "ODOP_SYNC__ENABLED": "false",
        "ODOP_ORDERS__ENABLED": "false",
    }
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "odop_sync.cli", "serve", "--port", str(port), *args],
        cwd=ROOT,
        env=env,
        stdout=log.open("wb"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        for _ in range(300):
            if proc.poll() is not None:
                raise RuntimeError(log.read_text())
            try:
                if httpx.get(url + "/healthz").status_code == 200:
                    break
            except httpx.TransportError:
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


# Class-scoped: its workers must be gone before the stateful phase, which runs a server without
# workers on the same database (a live worker would apply that phase's batches behind its back).
@pytest.fixture(scope="class")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with _serve(database_url, tmp_path_factory.mktemp("live") / "server.log") as url:
        yield url


@pytest.fixture
def still_server(database_url: str, tmp_path: Path) -> Iterator[str]:
    """A server without workers: nothing changes between two requests but what they do."""
    with _serve(database_url, tmp_path / "server.log", "--no-workers") as url:
        yield url


KEPT = frozenset({"agencies", "api_keys", "api_key_grants"})  # the scenario's caller


async def _agency_key(database_url: str) -> str:
    """An agency and its key, written on a connection of this test's own event loop."""
    engine = create_async_engine(database_url)
    async with transaction(create_sessionmaker(engine)) as session:
        session.add(Agency(slug="up-odop", name="UP ODOP"))
        await session.flush()
        _, key = await create_key(session, role=Role.AGENCY, name="stateful", agency_slug="up-odop")
    await engine.dispose()
    return key


async def _jobs_settled(database_url: str, timeout: float = 180.0) -> None:
    """Until the live server's workers have done every job that is due (the batches the
    generated requests queued): they share the database with the next test, whose emptying of
    the tables must not meet a worker half way through a batch."""
    engine = create_async_engine(database_url)
    due = or_(
        Job.status == JobStatus.RUNNING,
        (Job.status == JobStatus.QUEUED) & (Job.run_after <= func.now()),
    )
    deadline = time.monotonic() + timeout
    try:
        while True:
            async with engine.connect() as conn:
                busy = await conn.scalar(select(func.count()).select_from(Job).where(due))
            if not busy:
                return
            assert time.monotonic() < deadline, f"{busy} jobs still due at {utcnow()}"
            await asyncio.sleep(0.1)
    finally:
        await engine.dispose()


async def _reset(database_url: str) -> None:
    """Every table but the caller's key back to empty, as each scenario found it."""
    engine = create_async_engine(database_url)
    await empty_tables(engine, keep=KEPT)
    await engine.dispose()


@pytest.fixture
async def agency_key(make_agency: MakeAgency, make_key: MakeKey, live_server: str) -> str:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    # Data for the GETs to find, created through the live server: no worker may run in this
    # process, because the synchronous test below would freeze it mid-transaction.
    async with httpx.AsyncClient(base_url=live_server) as client:
        r = await client.post(
            "/v1/batches",
            json={"producers": [PRODUCER], "items": [item("ST-1")]},
            headers={"Authorization": f"Bearer {key}"},
        )
        assert r.status_code == 202
        # Finished before any scenario runs: a batch still being applied would change what
        # the same choices find from one scenario to the next (flaky generation to Hypothesis).
        await wait_for_batch(client, key, r.json()["id"])
    return key


class TestGeneratedRequests:
    def test_no_generated_request_breaks_the_api(
        self, live_server: str, agency_key: str, database_url: str
    ) -> None:
        """Every operation, EXAMPLES generated cases each (positive and negative data): no 5xx,
        and every answer matches its documented status, content type and schema."""
        schema = schemathesis.openapi.from_url(live_server + "/openapi.json")
        headers = {"Authorization": f"Bearer {agency_key}"}
        cases: dict[str, int] = {}
        for result in schema.get_all_operations():
            operation = result.ok()
            label = operation.label
            cases[label] = 0

            @given(case=operation.as_strategy())
            @settings(
                max_examples=EXAMPLES,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
            def check(case: Any) -> None:
                cases[case.operation.label] += 1
                case.call_and_validate(headers=headers, checks=CHECKS)

            check()
        asyncio.run(_jobs_settled(database_url))
        total = sum(cases.values())
        print(f"schemathesis: {total} generated cases over {len(cases)} operations")
        assert len(cases) >= 12
        assert total >= 500, cases


class TestStatefulPhase:
    def test_chained_requests_along_the_inferred_links_never_break_the_api(
        self, still_server: str, database_url: str, engine: Any
    ) -> None:
        """STATEFUL_EXAMPLES scenarios of chained calls: no 5xx, every answer as documented,
        and a resource a POST created is found by the operations its link leads to."""
        # Every scenario starts from the same server: a server without workers (no batch is
        # applied behind the scenario's back) and the tables emptied after each scenario. A
        # server that answers the same choices differently from one scenario to the next is what
        # Hypothesis reports as flaky generation.
        agency_key = asyncio.run(_agency_key(database_url))
        schema = schemathesis.openapi.from_url(still_server + "/openapi.json")
        workflow = schema.as_state_machine()
        headers = {"Authorization": f"Bearer {agency_key}"}
        followed: Counter[str] = Counter()

        class Chains(workflow):  # type: ignore[misc, valid-type]
            def step(self, input: StepInput) -> StepOutput:
                if input.transition is not None and input.is_applied:
                    followed[f"{input.case.method} {input.case.path}"] += 1
                return super().step(input)

            def get_call_kwargs(self, case: Any) -> dict[str, Any]:
                return {"headers": headers}

            def teardown(self) -> None:
                asyncio.run(_reset(database_url))

            def validate_response(
                self, response: Any, case: Any, additional_checks: Any = None, **kwargs: Any
            ) -> None:
                case.validate_response(
                    response,
                    checks=STATEFUL_CHECKS,
                    headers=headers,
                    transport_kwargs=kwargs or None,
                    recorder=self.recorder,
                )

        Chains.run(
            settings=settings(
                max_examples=STATEFUL_EXAMPLES,
                stateful_step_count=STATEFUL_STEPS,
                deadline=None,
                suppress_health_check=list(HealthCheck),
                derandomize=True,
                database=None,
            )
        )
        print(f"schemathesis stateful: {sum(followed.values())} linked calls: {dict(followed)}")
        # The scenarios did chain calls: answers fed the next request along several links (which
        # ones depends on what the generated POSTs got accepted).
        assert sum(followed.values()) >= 5, followed
        assert len(followed) >= 2, followed
