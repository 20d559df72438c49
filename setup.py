"""Build hook: compile the message catalogues into the package at build time.

Everything else about the build is in pyproject.toml. The catalogues live at
the top of the repository (locales/, where translators and scripts/i18n.py
work) and only their sources are committed; a wheel must carry the compiled
.mo files, or `pip install .` gives a bot that stops at start with aiogram's
"Found locale 'en' but this language is not compiled!". So `build_py` also
compiles locales/<lang>/LC_MESSAGES/messages.po into bot/locales/<lang>/... of
the build, where bot/i18n.py looks when there is no source tree beside it.
An editable install (`pip install -e .`, ./dev.sh) uses the source tree itself.
"""

from __future__ import annotations

from pathlib import Path

from setuptools import setup
from setuptools.command.build_py import build_py

ROOT = Path(__file__).resolve().parent
DOMAIN = "messages"


class BuildPyWithCatalogues(build_py):
    def run(self) -> None:
        super().run()
        if not getattr(self, "editable_mode", False):
            compile_catalogues(ROOT / "locales", Path(self.build_lib) / "bot" / "locales")


def compile_catalogues(source: Path, target: Path) -> list[Path]:
    """Compile every <lang>/LC_MESSAGES/messages.po under ``source`` into ``target``."""
    from babel.messages.mofile import write_mo
    from babel.messages.pofile import read_po

    written = []
    for po in sorted(source.glob(f"*/LC_MESSAGES/{DOMAIN}.po")):
        lang = po.parent.parent.name
        with po.open("rb") as fh:
            catalog = read_po(fh, locale=lang, domain=DOMAIN)
        mo = target / lang / "LC_MESSAGES" / f"{DOMAIN}.mo"
        mo.parent.mkdir(parents=True, exist_ok=True)
        with mo.open("wb") as fh:
            write_mo(fh, catalog)
        written.append(mo)
    if not written:
        raise RuntimeError(f"no message catalogues under {source}")
    return written


setup(cmdclass={"build_py": BuildPyWithCatalogues})
