"""Store contract suites: each port's suite runs against its in-memory fake and against the real adapter on
FerretDB (the database `make test` starts), so the fakes the handler unit tests use cannot drift from the stores
the services use. `pytest tests/contract -m "not integration"` runs the fake half without services."""

import os
import secrets
from datetime import UTC, datetime

import pytest
from pymongo import AsyncMongoClient

from tests.fakes.common import FixedClock
from tests.fakes.faults import Faults

BACKENDS = [pytest.param("fake", id="fake"), pytest.param("ferretdb", id="ferretdb", marks=pytest.mark.integration)]


@pytest.fixture(params=BACKENDS)
def backend(request) -> str:
    """'fake' or 'ferretdb': which implementation of the port the suite runs against."""
    return request.param


@pytest.fixture
def faults() -> Faults:
    return Faults()


@pytest.fixture
def clock() -> FixedClock:
    """Now, as the real adapters stamp what they store (the suites compare both with datetime.now)."""
    return FixedClock(datetime.now(UTC))


@pytest.fixture
async def db(backend):
    """A fresh database of its own on the test FerretDB for the FerretDB half (dropped afterwards); None for the
    fake half."""
    if backend == "fake":
        yield None
        return
    client = AsyncMongoClient(os.environ.get("ONCORELAY_MONGO_URI", "mongodb://127.0.0.1:27017/?retryWrites=false"),
                              tz_aware=True, serverSelectionTimeoutMS=5000)
    name = f"oncorelay_contract_{secrets.token_hex(4)}"
    yield client[name]
    await client.drop_database(name)
    await client.close()
