"""Property-based API testing: schemathesis generates requests from the app's own OpenAPI
document and checks that no input makes the server fail (5xx) or answer outside its schema."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
import schemathesis
from hypothesis import HealthCheck, settings

from tests.api.helpers import PRODUCER, item
from tests.conftest import MakeAgency, MakeKey

ROOT = Path(__file__).resolve().parents[2]
EXAMPLES = int(os.environ.get("ODOP_SCHEMATHESIS_EXAMPLES", "60"))


@pytest.fixture(scope="session")
def live_server(database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    log = tmp_path_factory.mktemp("live") / "server.log"
    env = {**os.environ, "ODOP_ENV": "testing", "ODOP_DATABASE_URL": database_url}
    proc = subprocess.Popen(  # noqa: S603 - our own CLI
        [sys.executable, "-m", "odop_sync.cli", "serve", "--port", str(port)],
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


@pytest.fixture(scope="session")
def api_schema(live_server: str) -> Any:
    return schemathesis.openapi.from_url(live_server + "/openapi.json")


@pytest.fixture
async def agency_key(make_agency: MakeAgency, make_key: MakeKey, client: httpx.AsyncClient) -> str:
    await make_agency("up-odop")
    key = await make_key("agency", "up-odop")
    # Some data for GETs to find: a producer and a product.
    r = await client.post(
        "/v1/batches",
        json={"producers": [PRODUCER], "items": [item("ST-1")]},
        headers={"Authorization": f"Bearer {key}"},
    )
    assert r.status_code == 202
    return key


schema = schemathesis.pytest.from_fixture("api_schema")


@schema.parametrize()
@settings(
    max_examples=EXAMPLES,
    deadline=None,
    suppress_health_check=list(HealthCheck),
    derandomize=True,
)
def test_no_input_breaks_the_api(case: Any, agency_key: str) -> None:
    case.call_and_validate(headers={"Authorization": f"Bearer {agency_key}"})
