"""Fill the English catalogue's new messages with the English the code is written in (README: "Languages").

After `pybabel update`, a message added to the code is in every catalogue with an empty translation.
For English the translation is the message itself; this copies it (singular and plural) there and over
`pybabel update`'s fuzzy guesses, and leaves every other translation — an English rewording made in the
catalogue — alone.

    python scripts/english_catalogue.py
"""
from __future__ import annotations

from pathlib import Path

from babel.messages.pofile import read_po, write_po

PO = Path(__file__).resolve().parent.parent / "bot" / "policy" / "locale" / "en" / "LC_MESSAGES" / "messages.po"


def main() -> int:
    with PO.open("rb") as f:
        catalog = read_po(f, locale="en")
    filled = 0
    for message in catalog:
        translated = all(message.string) if isinstance(message.string, tuple) else bool(message.string)
        if not message.id or translated and not message.fuzzy:
            continue
        message.string = tuple(message.id) if isinstance(message.id, tuple) else message.id
        message.flags.discard("fuzzy")
        filled += 1
    with PO.open("wb") as f:
        write_po(f, catalog, width=0, sort_output=True, include_previous=False)
    print(f"{PO}: {filled} messages filled")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
