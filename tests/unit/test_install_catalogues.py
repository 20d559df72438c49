"""Regression: `pip install .` then `python -m bot …` stopped with aiogram's
"Found locale 'en' but this language is not compiled!" (issue 7, item 11).

The wheel now carries the compiled catalogues (setup.py compiles them at
build time), and a checkout started without ./dev.sh compiles them on first
start with one warning.
"""

from __future__ import annotations

import gettext
import importlib.util
import logging
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest
import setuptools

from bot import i18n

ROOT = Path(__file__).resolve().parents[2]
MENU = "Main menu. Choose a section."
MENU_RU = "Главное меню. Выберите раздел."


def source_copy(tmp_path: Path) -> Path:
    """What `pip install .` builds from, without compiled catalogues or build leftovers."""
    src = tmp_path / "src"
    skip = shutil.ignore_patterns("__pycache__", "*.mo", "*.pyc")
    for name in ("emulator", "bot", "flows", "documents", "domain", "storage", "locales"):
        shutil.copytree(ROOT / name, src / name, ignore=skip)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy2(ROOT / name, src / name)
    return src


def assert_translates(mo: Path, lang: str) -> None:
    with mo.open("rb") as fh:
        catalog = gettext.GNUTranslations(fh)
    assert catalog.gettext(MENU) == (MENU_RU if lang == "ru" else MENU)


def test_build_compiles_catalogues_into_the_package(tmp_path: Path) -> None:
    src, lib = source_copy(tmp_path), tmp_path / "lib"
    done = subprocess.run(
        [sys.executable, "setup.py", "-q", "build_py", "--build-lib", str(lib)],
        cwd=src,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    for lang in ("ru", "en"):
        assert_translates(lib / "bot" / "locales" / lang / "LC_MESSAGES" / "messages.mo", lang)
    # the rest a started bot reads from its package: migrations and the PDF fonts
    assert (lib / "storage" / "migrations" / "versions" / "0001_initial.py").is_file()
    assert (lib / "storage" / "migrations" / "script.py.mako").is_file()
    assert list((lib / "documents" / "fonts").glob("*.ttf"))


def _can_build_wheels() -> bool:
    major, minor = (int(x) for x in setuptools.__version__.split(".")[:2])
    return importlib.util.find_spec("wheel") is not None or (major, minor) >= (70, 1)


@pytest.mark.skipif(not _can_build_wheels(), reason="bdist_wheel needs the wheel package here")
def test_wheel_carries_compiled_catalogues(tmp_path: Path) -> None:
    src, out = source_copy(tmp_path), tmp_path / "dist"
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(out), str(src)],
        capture_output=True,
        text=True,
        timeout=300,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    [wheel] = out.glob("zapis-*.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    for lang in ("ru", "en"):
        assert f"bot/locales/{lang}/LC_MESSAGES/messages.mo" in names
    assert "storage/migrations/versions/0001_initial.py" in names


def test_first_start_from_a_checkout_compiles_missing_catalogues(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales, ignore=shutil.ignore_patterns("*.mo"))
    with caplog.at_level(logging.WARNING, "zapis.i18n"):
        built = i18n.build_i18n("ru", path=locales)
    assert caplog.messages and "were not compiled: compiled en, ru" in caplog.messages[0]
    assert_translates(locales / "ru" / "LC_MESSAGES" / "messages.mo", "ru")
    with built.context(), built.use_locale("ru"):
        assert built.gettext(MENU) == MENU_RU
    caplog.clear()
    with caplog.at_level(logging.WARNING, "zapis.i18n"):
        i18n.build_i18n("ru", path=locales)
    assert caplog.messages == []  # compiled once


def test_read_only_checkout_compiles_into_a_temporary_folder(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    locales = tmp_path / "locales"
    shutil.copytree(ROOT / "locales", locales, ignore=shutil.ignore_patterns("*.mo"))
    compile_ = i18n._compile

    def read_only(po: Path, mo: Path) -> None:
        if mo.is_relative_to(locales):
            raise PermissionError(13, "Read-only file system", str(mo))
        compile_(po, mo)

    monkeypatch.setattr(i18n, "_compile", read_only)
    target = i18n.compiled_catalogues(locales)
    assert target != locales and not list(locales.glob("*/LC_MESSAGES/*.mo"))
    assert_translates(target / "en" / "LC_MESSAGES" / "messages.mo", "en")
    shutil.rmtree(target)
