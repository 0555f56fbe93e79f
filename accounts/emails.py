"""The lookup key of an email address: one key for every spelling that reads as the same address.

Accounts are found and kept unique by this key, never by the address as typed, so that look-alike
spellings (long s for s, dotless i for i, a dotted capital I, a full-width e in the domain) can neither
open a second account nor make a lookup match two accounts.
"""

from __future__ import annotations

import contextlib
import unicodedata
from collections import defaultdict
from collections.abc import Iterable

from django.utils.encoding import punycode


def _fold(text: str) -> str:
    # NFKC maps compatibility forms to their plain letter (full-width e -> e, long s -> s), casefold does
    # case-insensitivity the Unicode way. Upper-casing first also folds the letters whose upper case is plain
    # ASCII although their case fold is not (dotless i -> I -> i): the database's case-insensitive comparison
    # (UPPER() on PostgreSQL) treats them as equal, so the key must too.
    text = unicodedata.normalize("NFKC", text)
    return unicodedata.normalize("NFKC", text.upper().casefold())


def _without_marks(text: str) -> str:
    # A dotted capital I folds to i + COMBINING DOT ABOVE, which renders as a plain i; an accent added to a
    # letter (é -> e) must not make another mailbox name either.
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize("NFKC", "".join(c for c in decomposed if not unicodedata.combining(c)))


def email_lookup_key(email: str) -> str:
    """NFKC and case-folded local part without combining marks, `@`, the folded domain IDNA-encoded
    (`xn--…` labels).

    The domain keeps its marks: IDNA turns them into an ASCII label that reads as nothing else, and a domain
    with an accent is another domain (bücher.de is not bucher.de).
    """
    local, at, domain = email.strip().rpartition("@")
    if not at:
        return _without_marks(_fold(email.strip()))
    domain = _fold(domain)
    # Not a valid IDNA name (an empty or over-long label): the form validators refuse such addresses;
    # the folded text still gives a stable key.
    with contextlib.suppress(UnicodeError):
        domain = punycode(domain)
    return f"{_without_marks(_fold(local))}@{domain}"


def lookalike_groups(accounts: Iterable[tuple[int, str]]) -> dict[str, list[tuple[int, str]]]:
    """The (pk, email) accounts that share a lookup key, by key: only keys held by two or more."""
    by_key: dict[str, list[tuple[int, str]]] = defaultdict(list)
    for pk, email in accounts:
        by_key[email_lookup_key(email)].append((pk, email))
    return {key: sorted(group) for key, group in sorted(by_key.items()) if len(group) > 1}


def describe_lookalike_groups(groups: dict[str, list[tuple[int, str]]]) -> str:
    lines = [
        f"{len(groups)} group(s) of accounts have email addresses that read the same. Weft does not merge "
        "accounts: give every account of a group but one another address (in the admin or "
        "`manage.py shell`; saving it updates its key), then run a migration that stopped on them again."
    ]
    for key, group in groups.items():
        members = ", ".join(f"id {pk} {email!r}" for pk, email in group)
        lines.append(f"  {key}: {members}")
    return "\n".join(lines)
