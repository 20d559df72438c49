"""bot/lean_types.py: aiogram's types and methods built on first use validate and serialize
as before.

Each side runs in a fresh interpreter (this test process imported aiogram long ago,
eagerly): one as ``python -m bot`` starts (``import bot`` first), one importing
aiogram first. Both parse Telegram's own example updates and a callback press,
build the methods the bot sends, and print what they would put on the wire.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
UPDATES = ROOT / "tests" / "fixtures" / "telegram-updates" / "telegram-official-webhooks-guide.json"

SCRIPT = """
import json, sys
FIRST = sys.argv[1]
if FIRST == "bot":
    import bot
from aiogram.types import Message, Update, InlineKeyboardButton, InlineKeyboardMarkup
from aiogram.methods import AnswerCallbackQuery, EditMessageText, SendMessage
lazy = not Message.__pydantic_complete__
lazy_methods = not SendMessage.__pydantic_complete__
out = []
press = {"update_id": 9, "callback_query": {"id": "7", "chat_instance": "1", "data": "bk:s:1",
    "from": {"id": 5, "is_bot": False, "first_name": "A"},
    "message": {"message_id": 3, "date": 0, "chat": {"id": 5, "type": "private"},
                "text": "x", "reply_markup": {"inline_keyboard": [[{"text": "a",
                "callback_data": "bk:s:1"}]]}}}}
text = {"update_id": 10, "message": {"message_id": 4, "date": 0, "text": "/start",
    "chat": {"id": 5, "type": "private", "first_name": "A"},
    "from": {"id": 5, "is_bot": False, "first_name": "A", "language_code": "ru"},
    "entities": [{"type": "bot_command", "offset": 0, "length": 6}]}}
contact = {"update_id": 11, "message": {"message_id": 5, "date": 0,
    "chat": {"id": 5, "type": "private"}, "from": {"id": 5, "is_bot": False, "first_name": "A"},
    "contact": {"phone_number": "+79990000000", "first_name": "A", "user_id": 5}}}
for case in json.load(open(sys.argv[2])) + [{"update": u} for u in (press, text, contact)]:
    try:
        update = Update.model_validate(case["update"], context={"bot": None})
    except ValueError as error:  # Telegram's guide has examples aiogram refuses: the same
        out.append(str(error))
        continue
    out.append(update.model_dump_json(exclude_unset=True))
keyboard = InlineKeyboardMarkup(inline_keyboard=[[InlineKeyboardButton(text="a", callback_data="b")]])
for method in (SendMessage(chat_id=1, text="t", reply_markup=keyboard),
               EditMessageText(chat_id=1, message_id=2, text="t", reply_markup=keyboard),
               AnswerCallbackQuery(callback_query_id="7", text="ok")):
    out.append(method.model_dump_json(exclude_unset=True))
from aiogram.methods import SendDocument
from aiogram.types import BufferedInputFile
document = SendDocument(chat_id=1, document=BufferedInputFile(b"x", filename="a.pdf"), caption="c")
out.append(repr(sorted(document.model_dump(exclude_unset=True))))
for bad in ({"chat_id": 1}, {"chat_id": [1], "text": "t"}):  # refused the same way
    try:
        SendMessage(**bad)
    except ValueError as error:
        out.append(str(error).splitlines()[0])
print(json.dumps({"lazy": lazy, "lazy_methods": lazy_methods, "out": out}))
"""


def run(first: str) -> dict[str, object]:
    done = subprocess.run(
        [sys.executable, "-c", SCRIPT, first, str(UPDATES)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    result: dict[str, object] = json.loads(done.stdout)
    return result


def test_types_built_on_first_use_give_the_same_objects_as_eager_ones() -> None:
    lean, eager = run("bot"), run("aiogram")
    assert lean["lazy"] is True and eager["lazy"] is False  # the two sides differ as meant
    assert lean["lazy_methods"] is True and eager["lazy_methods"] is False
    assert lean["out"] == eager["out"]
    parsed = [line for line in lean["out"] if line.startswith("{")]  # type: ignore[union-attr]
    assert len(parsed) == 6 and any('"callback_query"' in line for line in parsed)


WARM = """
import bot
from bot.lean_types import HOT_MODELS, warm_up
import aiogram.methods, aiogram.types
def complete(name):
    model = getattr(aiogram.types, name, None) or getattr(aiogram.methods, name)
    return model.__pydantic_complete__
before = [complete(n) for n in HOT_MODELS]
built = warm_up()
print(any(before), built == list(HOT_MODELS), all(complete(n) for n in HOT_MODELS), warm_up())
"""


def test_run_modes_build_the_hot_models_at_start_up() -> None:
    """bot/live.py's warm_up: the deferred schemas of what every update uses are built before
    the first user's update (once; a second call builds nothing)."""
    done = subprocess.run(
        [sys.executable, "-c", WARM],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    assert done.stdout.split() == ["False", "True", "True", "[]"], done.stdout + done.stderr
