"""FSM storage: the dialogue step and data survive a restart and commit with the unit of work.

The same behaviours are checked on SQLite, PostgreSQL and Redis (aiogram's
RedisStorage, used when ZAPIS_REDIS_URL is set). Per-chat event isolation:
two updates of one chat never run at the same time, different chats do.
"""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
from aiogram import Dispatcher
from aiogram.fsm.state import State, StatesGroup
from aiogram.fsm.storage.base import BaseEventIsolation, BaseStorage, DefaultKeyBuilder, StorageKey
from aiogram.fsm.storage.memory import MemoryStorage, SimpleEventIsolation
from aiogram.types import Message, Update
from sqlalchemy import text
from sqlalchemy.ext.asyncio import AsyncEngine

from storage.crypto import PersonalDataCipher
from storage.fsm import DatabaseStorage
from storage.uow import UnitOfWorkFactory
from tests.conftest import (
    REDIS_URL,
    TEST_KEY,
    drop_pg_database,
    make_pg_engine,
    make_sqlite_engine,
    requires_pg,
    requires_redis,
)
from tests.flows.recording_session import RecordingSession, make_bot, message_update

Factory = Callable[[], BaseStorage]


class Form(StatesGroup):
    name = State()
    birth_date = State()


def key(chat: int = 1, user: int = 1, bot: int = 42) -> StorageKey:
    return StorageKey(bot_id=bot, chat_id=chat, user_id=user)


async def _redis_cleanup(prefix: str) -> None:
    from redis.asyncio import Redis

    assert REDIS_URL is not None
    redis = Redis.from_url(REDIS_URL)
    try:
        keys = [k async for k in redis.scan_iter(match=f"{prefix}:*")]
        if keys:
            await redis.delete(*keys)
    finally:
        await redis.aclose()


@pytest.fixture(
    params=[
        "sqlite",
        pytest.param("postgresql", marks=requires_pg),
        pytest.param("redis", marks=requires_redis),
    ]
)
async def storage_factory(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[Factory]:
    """Builds storage instances on one backend; a second instance is a 'restarted' bot."""
    made: list[BaseStorage] = []
    if request.param == "redis":
        from aiogram.fsm.storage.redis import RedisStorage

        assert REDIS_URL is not None
        prefix = f"zapis_test_{secrets.token_hex(6)}"

        def factory() -> BaseStorage:
            storage = RedisStorage.from_url(
                REDIS_URL,
                key_builder=DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True),
            )
            made.append(storage)
            return storage

        yield factory
        for storage in made:
            await storage.close()
        await _redis_cleanup(prefix)
        return

    if request.param == "sqlite":
        engine = await make_sqlite_engine(tmp_path)
        name = None
    else:
        engine, name = await make_pg_engine()

    def db_factory() -> BaseStorage:
        storage = DatabaseStorage(engine)
        made.append(storage)
        return storage

    yield db_factory
    for storage in made:
        await storage.close()
    await engine.dispose()
    if name is not None:
        await drop_pg_database(name)


async def test_state_and_data_round_trip(storage_factory: Factory) -> None:
    storage = storage_factory()
    k = key()
    assert await storage.get_state(k) is None
    assert await storage.get_data(k) == {}

    await storage.set_state(k, Form.name)
    assert await storage.get_state(k) == Form.name.state
    await storage.set_data(k, {"name": "Пётр Ёлкин-Д'Артаньян", "n": 3, "items": [1, 2]})
    assert await storage.get_state(k) == Form.name.state  # data write keeps the state
    assert await storage.get_data(k) == {"name": "Пётр Ёлкин-Д'Артаньян", "n": 3, "items": [1, 2]}

    merged = await storage.update_data(k, {"n": 4, "email": None})
    assert merged == {"name": "Пётр Ёлкин-Д'Артаньян", "n": 4, "items": [1, 2], "email": None}
    assert await storage.get_data(k) == merged
    assert await storage.get_value(k, "n") == 4
    assert await storage.get_value(k, "missing", "dflt") == "dflt"

    await storage.set_state(k, "Form:birth_date")
    assert await storage.get_state(k) == "Form:birth_date"
    assert await storage.get_data(k) == merged  # state write keeps the data

    await storage.set_state(k, None)
    await storage.set_data(k, {})
    assert await storage.get_state(k) is None
    assert await storage.get_data(k) == {}


async def test_keys_are_isolated_per_chat_user_and_bot(storage_factory: Factory) -> None:
    storage = storage_factory()
    base = key(chat=10, user=20, bot=1)
    others = [
        key(chat=11, user=20, bot=1),
        key(chat=10, user=21, bot=1),
        key(chat=10, user=20, bot=2),
    ]
    await storage.set_state(base, Form.name)
    await storage.set_data(base, {"who": "base"})
    for other in others:
        assert await storage.get_state(other) is None
        assert await storage.get_data(other) == {}
    await storage.set_data(others[2], {"who": "other bot"})
    assert await storage.get_data(base) == {"who": "base"}
    # A different destiny (a second FSM of the same chat) is separate too.
    scene = StorageKey(bot_id=1, chat_id=10, user_id=20, destiny="scene")
    assert await storage.get_state(scene) is None


async def test_dialogue_survives_a_restart(storage_factory: Factory) -> None:
    first = storage_factory()
    k = key(chat=5, user=5)
    await first.set_state(k, Form.birth_date)
    await first.update_data(k, {"name": "Анна"})
    await first.close()

    second = storage_factory()  # a new process on the same database / Redis
    assert await second.get_state(k) == Form.birth_date.state
    assert await second.get_data(k) == {"name": "Анна"}


async def test_writes_commit_and_roll_back_with_the_unit_of_work(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    uow_factory = UnitOfWorkFactory(engine, cipher)
    storage = DatabaseStorage(engine)
    k = key(chat=7, user=7)

    async with uow_factory() as uow:
        await storage.set_state(k, Form.name)
        await storage.set_data(k, {"step": 1})
        # Inside the unit of work its own writes are visible ...
        assert await storage.get_state(k) == Form.name.state
        await uow.rollback()
    # ... and rolled back with it.
    assert await storage.get_state(k) is None
    assert await storage.get_data(k) == {}

    async with uow_factory():
        await storage.set_state(k, Form.name)
        # no commit: leaving the unit of work rolls back
    assert await storage.get_state(k) is None

    async with uow_factory() as uow:
        await storage.set_state(k, Form.birth_date)
        await storage.update_data(k, {"step": 2})
        await uow.commit()
    restarted = DatabaseStorage(engine)
    assert await restarted.get_state(k) == Form.birth_date.state
    assert await restarted.get_data(k) == {"step": 2}


async def test_a_failed_update_leaves_the_previous_step(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """A handler that moves the dialogue on and then fails must not leave the user half-way."""
    uow_factory = UnitOfWorkFactory(engine, cipher)
    storage = DatabaseStorage(engine)
    k = key(chat=8, user=8)
    await storage.set_state(k, Form.name)
    with pytest.raises(RuntimeError):
        async with uow_factory():
            await storage.set_state(k, Form.birth_date)
            await storage.update_data(k, {"name": "Иван"})
            raise RuntimeError("handler failed")
    assert await storage.get_state(k) == Form.name.state
    assert await storage.get_data(k) == {}


# --- per-chat event isolation ---------------------------------------------------------------


@pytest.fixture(params=["simple", pytest.param("redis", marks=requires_redis)])
async def isolation(request: pytest.FixtureRequest) -> AsyncIterator[BaseEventIsolation]:
    if request.param == "simple":
        iso: BaseEventIsolation = SimpleEventIsolation()
        yield iso
        await iso.close()
        return
    from aiogram.fsm.storage.redis import RedisEventIsolation

    assert REDIS_URL is not None
    prefix = f"zapis_test_{secrets.token_hex(6)}"
    iso = RedisEventIsolation.from_url(
        REDIS_URL, key_builder=DefaultKeyBuilder(prefix=prefix, with_bot_id=True, with_destiny=True)
    )
    yield iso
    await iso.close()
    await _redis_cleanup(prefix)


async def _run_concurrently(iso: BaseEventIsolation, chats: list[int]) -> list[tuple[str, int]]:
    events: list[tuple[str, int]] = []
    dp = Dispatcher(storage=MemoryStorage(), events_isolation=iso)

    @dp.message()
    async def slow(message: Message) -> None:
        events.append(("start", message.chat.id))
        await asyncio.sleep(0.1)
        events.append(("end", message.chat.id))

    bot = make_bot(RecordingSession())
    updates = [
        Update.model_validate(message_update(chat, "hello"), context={"bot": bot}) for chat in chats
    ]
    await asyncio.gather(*(dp.feed_update(bot, u) for u in updates))
    await dp.storage.close()
    return events


async def test_same_chat_updates_run_one_after_another(isolation: BaseEventIsolation) -> None:
    events = await _run_concurrently(isolation, [300, 300])
    assert events == [("start", 300), ("end", 300), ("start", 300), ("end", 300)]


async def test_different_chats_run_in_parallel(isolation: BaseEventIsolation) -> None:
    events = await _run_concurrently(isolation, [301, 302])
    assert [e[0] for e in events] == ["start", "start", "end", "end"]


async def test_data_can_be_encrypted_at_rest(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    storage = DatabaseStorage(engine, cipher=cipher)
    k = key(chat=9, user=9)
    await storage.set_data(k, {"snils": "112-233-445 95", "name": "Пётр"})
    async with engine.connect() as conn:
        raw = (await conn.execute(text("SELECT data FROM fsm_states"))).scalar_one()
    assert "112-233-445" not in raw and "Пётр" not in raw
    assert raw.startswith("gcm:")  # PersonalDataCipher.seal (AES-GCM)
    assert await DatabaseStorage(engine, cipher=cipher).get_data(k) == {
        "snils": "112-233-445 95",
        "name": "Пётр",
    }
    with pytest.raises(ValueError, match="cipher"):
        await DatabaseStorage(engine).get_data(k)
    # Plain rows written before encryption was switched on still read.
    plain = DatabaseStorage(engine)
    await plain.set_data(key(chat=10, user=10), {"a": 1})
    assert await storage.get_data(key(chat=10, user=10)) == {"a": 1}
    # So do Fernet rows, written before the dialogue data was sealed (issue 8, fifth pass).
    fernet = "fernet:" + (cipher.encrypt('{"old": "Пётр"}') or "")
    old = key(chat=12, user=12)
    async with engine.begin() as conn:
        await conn.execute(
            text("INSERT INTO fsm_states (key, data) VALUES (:k, :d)"),
            {"k": storage.built(old), "d": fernet},
        )
    fresh = DatabaseStorage(engine, cipher=PersonalDataCipher(TEST_KEY))
    assert await fresh.get_data(old) == {"old": "Пётр"}


async def test_an_unchanged_dialogue_is_not_written_again(
    engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """A step that leaves the state and data as they were (read in this update) neither
    encrypts them again nor writes the row; any change is written, once, at commit."""
    from sqlalchemy import event

    storage, uow_factory, k = (
        DatabaseStorage(engine, cipher=cipher),
        UnitOfWorkFactory(engine, cipher),
        key(chat=11, user=11),
    )
    await storage.set_state(k, Form.name)
    await storage.set_data(k, {"draft": {"step": "clinic"}, "name": "Пётр"})
    seen: list[str] = []

    def record(_conn: object, _cursor: object, statement: str, *_args: object) -> None:
        seen.append(statement)

    event.listen(engine.sync_engine, "before_cursor_execute", record)
    try:
        async with uow_factory() as uow:
            assert await storage.get_state(k) == Form.name.state
            await storage.set_state(k, Form.name)
            await storage.update_data(k, {"name": "Пётр"})
            await uow.commit()
        assert not [s for s in seen if "INSERT INTO fsm_states" in s]
        async with uow_factory() as uow:
            await storage.update_data(k, {"name": "Павел"})
            await storage.update_data(k, {"name": "Пётр"})  # back as it was: still written
            await storage.set_state(k, Form.birth_date)
            await uow.commit()
        assert len([s for s in seen if "INSERT INTO fsm_states" in s]) == 1
    finally:
        event.remove(engine.sync_engine, "before_cursor_execute", record)
    assert await storage.get_state(k) == Form.birth_date.state
    assert await storage.get_data(k) == {"draft": {"step": "clinic"}, "name": "Пётр"}
    # A plain row (written before encryption was switched on) is sealed by the same data.
    plain = key(chat=13, user=13)
    await DatabaseStorage(engine).set_data(plain, {"name": "Пётр"})
    async with uow_factory() as uow:
        await storage.update_data(plain, {"name": "Пётр"})
        await uow.commit()
    async with engine.connect() as conn:
        found = {"k": storage.built(plain)}
        raw = (
            await conn.execute(text("SELECT data FROM fsm_states WHERE key = :k"), found)
        ).scalar_one()
    assert raw.startswith("gcm:") and "Пётр" not in raw


@requires_redis
async def test_redis_dialogue_data_was_stored_in_plaintext(
    sqlite_engine: AsyncEngine, cipher: PersonalDataCipher
) -> None:
    """Issue 7 item 15: the Redis FSM storage the app builds encrypts the dialogue data
    like the database storage does (the raw Redis value shows no name, date or SNILS)."""
    from redis.asyncio import Redis

    from bot.app import build_storage
    from bot.settings import load_settings

    assert REDIS_URL is not None
    settings = load_settings(redis_url=REDIS_URL)
    storage, isolation = build_storage(settings, sqlite_engine, cipher)
    k = key(chat=secrets.randbelow(10**9) + 10**9, user=77)
    data = {"draft": "…", "name": "Смирнова Анна", "birth": "03.09.1990", "snils": "203-948-576 79"}
    redis = Redis.from_url(REDIS_URL)
    try:
        await storage.set_data(k, data)
        built = DefaultKeyBuilder(with_bot_id=True, with_destiny=True).build(k, "data")
        raw = (await redis.get(built)).decode()
        for secret in ("Смирнова", "Анна", "1990", "203-948"):
            assert secret not in raw
        assert raw.startswith("gcm:")
        assert await storage.get_data(k) == data
        await redis.set(built, '{"legacy": 1}')  # written before encryption: still read
        assert await storage.get_data(k) == {"legacy": 1}
        await redis.set(built, "fernet:" + (cipher.encrypt('{"older": 2}') or ""))
        assert await storage.get_data(k) == {"older": 2}  # written before sealing: still read
    finally:
        await redis.delete(built)
        await redis.aclose()
        await storage.close()
        await isolation.close()
