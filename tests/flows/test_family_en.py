"""«My family» in English through the real Dispatcher: the consent request reaches the other
account's chat in its language with «Allow» / «Decline»; «Decline» adds nobody; a forged
consent button of a third account changes nothing; the limit counts pending requests.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest
import pytest_asyncio

from emulator.harness import ConsoleWorld
from tests.flows.booking_helpers import NOW, rows

pytestmark = pytest.mark.asyncio(loop_scope="module")

REGISTER_EN_1001 = """@1001
/start
[English]
[I agree]
!contact
Ivanov Ivan Ivanovich
12.04.1985
[Male]
112-233-445 95
8451999122899990
[Skip]
"""
REGISTER_EN_1002 = """@1002
/start
[English]
[I agree]
!contact
Smirnov Oleg Petrovich
03.09.1990
[Male]
123-456-789 64
1234567890123452
[Skip]
"""
ADD_SMIRNOV = """@1001
[My family]
[Add a relative]
[Spouse]
Smirnov Oleg Petrovich
03.09.1990
[Male]
123-456-789 64
1234567890123452
"""


@pytest_asyncio.fixture(loop_scope="module", scope="module")
async def world() -> AsyncIterator[ConsoleWorld]:
    w = await ConsoleWorld.start(now=NOW, lang="en")
    await w.run(REGISTER_EN_1001 + REGISTER_EN_1002)
    yield w
    await w.close()


async def _relatives(world: ConsoleWorld) -> int:
    found = await rows(
        world,
        "SELECT COUNT(*) FROM patients WHERE owner_user_id = 1001 AND relation != 'self' "
        "AND deleted_at IS NULL",
    )
    return int(str(found[0][0]))


async def test_consent_request_waits_and_decline_adds_nobody(world: ConsoleWorld) -> None:
    await world.run(ADD_SMIRNOV)
    assert "awaiting consent" in world.last_text(1001)
    assert "My family (1 of 5)" in world.last_text(1001)  # a pending request counts
    await world.run("!clock +1m")
    text = world.last_text(1002)
    # Who asks is named: the asked person decides knowing who would see their visits.
    assert text.startswith("Ivanov Ivan Ivanovich asks in Zapis to add you")
    assert "spouse" in text and "Allow only if you know this person." in text
    labels = [label for row in world.buttons(1002) for label, _d in row]
    assert labels == ["Allow", "Decline"]
    consent = [d for row in world.buttons(1002) for _l, d in row if d]
    # a third account forges the answer: nothing happens
    await world.run(f"@1003\n/start\n!callback {consent[0]}")
    assert await _relatives(world) == 0
    await world.run("@1002\n[Decline]")
    assert "You declined" in world.last_text(1002)
    assert await _relatives(world) == 0
    await world.run("!clock +1m")
    assert "was declined" in world.last_text(1001)
    statuses = await rows(world, "SELECT status FROM relative_requests")
    assert statuses == [("declined",)]
    # the request's typed profile is stored encrypted
    raw = await rows(world, "SELECT data_enc FROM relative_requests")
    assert "Smirnov" not in str(raw) and "123-456" not in str(raw)


async def test_after_a_decline_the_request_can_be_sent_again(world: ConsoleWorld) -> None:
    await world.run(ADD_SMIRNOV + "!clock +1m\n@1002\n[Allow]")
    assert "Done: Smirnov Oleg Petrovich is added to the family of Ivanov Ivan Ivanovich" in (
        world.last_text(1002)
    )
    assert await _relatives(world) == 1
    await world.run("@1001\n[My family]")
    assert "1. Smirnov Oleg Petrovich — spouse, born 03.09.1990" in world.last_text(1001)


async def test_a_withdrawn_request_cannot_be_allowed(world: ConsoleWorld) -> None:
    await world.run(
        "@1003\n[English]\n[I agree]\n!contact\nPetrov Pyotr Petrovich\n05.05.1980\n"
        "[Male]\n200-007-819 81\n7700009000000074\n[Skip]\n"
        "@1001\n[My family]\n[Add a relative]\n[Parent]\nPetrov Pyotr Petrovich\n05.05.1980\n"
        "[Male]\n200-007-819 81\n7700009000000074\n!clock +1m"
    )
    assert "Allow only if you know this person." in world.last_text(1003)
    await world.run("@1001\n[My family]\n[Withdraw the request: Petrov]")
    assert "The request is withdrawn." in world.last_text(1001)
    assert "awaiting consent" not in world.last_text(1001)
    await world.run("@1003\n[Allow]")
    assert await _relatives(world) == 1  # only Smirnov
    statuses = await rows(world, "SELECT status FROM relative_requests ORDER BY id")
    assert statuses[-1] == ("withdrawn",)
