"""Local accounts: argon2 password hashes (argon2-cffi), roles, a login rate limit.

Roles are what a person does at the station: ``reception`` imports outside discs, ``burn``
makes discs, ``qa`` checks media, ``admin`` does all of it and edits the configuration, the
accounts and reads the audit trail.
"""

from __future__ import annotations

import re
import threading
import time
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Final

import sqlalchemy as sa
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from mediatool.errors import MediatoolError
from mediatool.station.store import ROLES, Store, users

#: which desks each role may use (admin: every one)
DESKS: Final[dict[str, frozenset[str]]] = {
    "reception": frozenset({"reception", "history"}),
    "burn": frozenset({"burn", "history"}),
    "qa": frozenset({"qa", "history"}),
    "admin": frozenset({"reception", "burn", "qa", "history", "admin"}),
}
MIN_PASSWORD: Final = 8
_NAME: Final = re.compile(r"[A-Za-z0-9._-]{1,64}")
_hasher: Final = PasswordHasher()


class AccountError(MediatoolError):
    """An account cannot be created or changed as asked."""


@dataclass(frozen=True, slots=True)
class User:
    id: int
    name: str
    role: str
    language: str | None

    def may(self, desk: str) -> bool:
        return desk in DESKS.get(self.role, frozenset())


def _check(name: str, role: str, password: str) -> None:
    if not _NAME.fullmatch(name):
        raise AccountError(
            f"the user name {name!r} is not allowed",
            hint="1 to 64 letters, digits, '.', '_' or '-'",
        )
    if role not in ROLES:
        raise AccountError(f"the role {role!r} is not known", hint=f"one of: {', '.join(ROLES)}")
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is shorter than {MIN_PASSWORD} characters")


def add_user(store: Store, name: str, role: str, password: str) -> User:
    _check(name, role, password)
    with store.begin() as conn:
        if conn.execute(sa.select(users.c.id).where(users.c.name == name)).first():
            raise AccountError(f"the user {name!r} exists already", hint="choose another name")
        row = conn.execute(
            users.insert().values(
                name=name,
                role=role,
                password_hash=_hasher.hash(password),
                created=time.time(),
                disabled=False,
            )
        )
        key = row.inserted_primary_key
        assert key is not None
        return User(int(key[0]), name, role, None)


def set_password(store: Store, name: str, password: str) -> None:
    if len(password) < MIN_PASSWORD:
        raise AccountError(f"the password is shorter than {MIN_PASSWORD} characters")
    with store.begin() as conn:
        done = conn.execute(
            users.update().where(users.c.name == name).values(password_hash=_hasher.hash(password))
        )
    if done.rowcount != 1:
        raise AccountError(f"there is no user {name!r}")


def update_user(
    store: Store, name: str, *, role: str | None = None, disabled: bool | None = None,
    language: str | None = None,
) -> None:  # fmt: skip
    values: dict[str, object] = {}
    if role is not None:
        if role not in ROLES:
            raise AccountError(f"the role {role!r} is not known")
        values["role"] = role
    if disabled is not None:
        values["disabled"] = disabled
    if language is not None:
        values["language"] = language or None
    if values:
        with store.begin() as conn:
            conn.execute(users.update().where(users.c.name == name).values(**values))


def list_users(store: Store) -> list[dict[str, object]]:
    q = sa.select(users.c.name, users.c.role, users.c.disabled, users.c.language).order_by(
        users.c.name
    )
    with store.begin() as conn:
        return [dict(r) for r in conn.execute(q).mappings()]


def count_users(store: Store) -> int:
    with store.begin() as conn:
        return int(conn.execute(sa.select(sa.func.count()).select_from(users)).scalar_one())


def get_user(store: Store, user_id: int) -> User | None:
    with store.begin() as conn:
        row = conn.execute(users.select().where(users.c.id == user_id)).mappings().first()
    if row is None or row["disabled"]:
        return None
    return User(row["id"], row["name"], row["role"], row["language"])


def authenticate(store: Store, name: str, password: str) -> User | None:
    """The user when name and password match (and the account is enabled), else None."""
    with store.begin() as conn:
        row = conn.execute(users.select().where(users.c.name == name)).mappings().first()
    if row is None:
        _hasher.hash(password)  # the same time whether or not the name exists
        return None
    try:
        _hasher.verify(row["password_hash"], password)
    except (VerificationError, InvalidHashError):
        return None
    if row["disabled"]:
        return None
    if _hasher.check_needs_rehash(row["password_hash"]):
        set_password(store, name, password)
    return User(row["id"], row["name"], row["role"], row["language"])


class RateLimit:
    """At most ``attempts`` failed logins per ``window`` seconds per client and per name."""

    def __init__(self, attempts: int = 5, window: float = 60.0) -> None:
        self.attempts = attempts
        self.window = window
        self._failures: dict[str, deque[float]] = defaultdict(deque)
        self._lock = threading.Lock()

    def _recent(self, key: str, now: float) -> deque[float]:
        q = self._failures[key]
        while q and q[0] < now - self.window:
            q.popleft()
        return q

    def wait(self, *keys: str) -> float:
        """Seconds until another attempt is allowed (0: allowed now)."""
        now = time.monotonic()
        with self._lock:
            longest = 0.0
            for key in keys:
                q = self._recent(key, now)
                if len(q) >= self.attempts:
                    longest = max(longest, q[0] + self.window - now)
            return longest

    def failed(self, *keys: str) -> None:
        now = time.monotonic()
        with self._lock:
            for key in keys:
                self._recent(key, now).append(now)
