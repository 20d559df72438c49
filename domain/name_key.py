"""The matching form of a full name (lookups by name: the register, duplicates).

Apart from domain/validators.py (which re-exports it) to keep that module short.
"""

from __future__ import annotations

# Russian passports spell names in Latin letters by ICAO Doc 9303 (since 2013).
_ICAO = str.maketrans(
    {
        "а": "a", "б": "b", "в": "v", "г": "g", "д": "d", "е": "e", "ё": "e", "ж": "zh",
        "з": "z", "и": "i", "й": "i", "к": "k", "л": "l", "м": "m", "н": "n", "о": "o",
        "п": "p", "р": "r", "с": "s", "т": "t", "у": "u", "ф": "f", "х": "kh", "ц": "ts",
        "ч": "ch", "ш": "sh", "щ": "shch", "ъ": "ie", "ы": "y", "ь": "", "э": "e",
        "ю": "iu", "я": "ia",
    }
)  # fmt: skip


def name_key(surname: str, name: str, patronymic: str) -> str:
    """The form a full name is matched on: case, spaces, hyphens, apostrophes and ё/е
    do not matter, and Cyrillic equals its ICAO Latin spelling (Иванов = Ivanov), so
    a name typed in English matches the register's Russian one."""
    parts = (p.lower().translate(_ICAO) for p in (surname, name, patronymic))
    return " ".join("".join(ch for ch in p if ch.isalnum()) for p in parts)
