"""Users, one-time codes and tokens of every emulated project.

At rest: the SHA-256 hex the client sends as "password" is hashed again with scrypt and a random
salt; tokens are random (``secrets.token_urlsafe``) and stored only as their SHA-256 (a fast hash is
enough for 256 random bits); a one-time code is stored as a hash and mailed to the outbox.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets
import sqlite3
from collections.abc import Callable
from typing import Any

from lumi._js import iso_now
from lumi.emulator.db import Database
from lumi.emulator.envelope import (
    BAD_CREDENTIALS,
    CONFLICT,
    INVALID_TOKEN,
    NOT_FOUND,
    EmulatorError,
    bad_request,
)
from lumi.emulator.outbox import Outbox

ROLES = ("ADMIN", "USER")
OTP_PURPOSES = ("register", "resetPassword")
TOKEN_TTL_SECONDS = 7 * 24 * 3600.0
OTP_TTL_SECONDS = 600.0
#: Wrong guesses after which a one-time code is void.
OTP_MAX_FAILURES = 5

_SHA256_HEX = re.compile(r"[0-9a-f]{64}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+")
_SCRYPT_N, _SCRYPT_R, _SCRYPT_P = 2**14, 8, 1


def hash_password(password_sha256: str) -> str:
    salt = secrets.token_bytes(16)
    digest = hashlib.scrypt(
        password_sha256.encode(), salt=salt, n=_SCRYPT_N, r=_SCRYPT_R, p=_SCRYPT_P, dklen=32
    )
    return f"scrypt${_SCRYPT_N}${_SCRYPT_R}${_SCRYPT_P}${salt.hex()}${digest.hex()}"


def check_password(password_sha256: str, stored: str) -> bool:
    _, n, r, p, salt, digest = stored.split("$")
    candidate = hashlib.scrypt(
        password_sha256.encode(),
        salt=bytes.fromhex(salt),
        n=int(n),
        r=int(r),
        p=int(p),
        dklen=len(digest) // 2,
    )
    return hmac.compare_digest(candidate.hex(), digest)


def _sha256(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()


def _public(row: sqlite3.Row) -> dict[str, Any]:
    return {
        "userId": row["user_id"],
        "email": row["email"],
        "userName": row["user_name"],
        "userRole": row["role"],
        "createdTime": row["created_time"],
    }


def check_email(email: object) -> str:
    if not isinstance(email, str) or not _EMAIL.fullmatch(email):
        raise bad_request("email must be an email address")
    return email


def check_password_digest(value: object, field: str) -> str:
    if not isinstance(value, str) or not _SHA256_HEX.fullmatch(value):
        raise bad_request(
            f"{field} must be the lowercase SHA-256 hex digest of the password (64 hex digits)"
        )
    return value


def check_role(role: object) -> str:
    if role not in ROLES:
        raise bad_request(f"userRole must be one of {', '.join(ROLES)}, not {role!r}")
    return str(role)


def check_fixed_otp(code: str | None) -> str | None:
    if code is not None and not re.fullmatch(r"[0-9]{6}", code):
        raise ValueError("the fixed OTP must be exactly 6 digits")
    return code


class UserDirectory:
    """Sign-up, sign-in, password reset, tokens and roles, per project."""

    def __init__(
        self,
        db: Database,
        outbox: Outbox,
        *,
        clock: Callable[[], float],
        fixed_otp: str | None = None,
        token_ttl: float = TOKEN_TTL_SECONDS,
    ) -> None:
        self._db = db
        self._outbox = outbox
        self._clock = clock
        self._fixed_otp = check_fixed_otp(fixed_otp)
        self._token_ttl = token_ttl

    # --- one-time codes -------------------------------------------------------------------
    def send_otp(self, project_id: str, email: str, purpose: str) -> None:
        """Mail a fresh 6-digit code; it replaces any earlier code for the same purpose."""
        if purpose not in OTP_PURPOSES:
            raise bad_request(f"emailType must be one of {', '.join(OTP_PURPOSES)}")
        exists = self._find(project_id, email) is not None
        if purpose == "register" and exists:
            raise EmulatorError(CONFLICT, f"{email} is already registered in this project")
        if purpose == "resetPassword" and not exists:
            raise EmulatorError(NOT_FOUND, f"no user with email {email} in this project")
        code = self._fixed_otp or f"{secrets.randbelow(10**6):06d}"
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT OR REPLACE INTO otps (project_id, email, purpose, code_hash, expires_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (project_id, email, purpose, _sha256(code), self._clock() + OTP_TTL_SECONDS),
            )
        self._outbox.add_otp(project_id, email, purpose, code)

    def _consume_otp(self, project_id: str, email: str, purpose: str, code: object) -> None:
        """Accept the code once; a wrong guess counts (committed) towards voiding the code."""
        if not isinstance(code, str) or not code:
            raise bad_request("code (the one-time code from the email) is required")
        key = (project_id, email, purpose)
        where = " WHERE project_id = ? AND email = ? AND purpose = ?"
        error: EmulatorError | None = None
        with self._db.transaction() as conn:
            row = conn.execute(
                "SELECT code_hash, expires_at, failures FROM otps" + where, key
            ).fetchone()
            if row is None:
                error = bad_request(f"no {purpose} code was sent to {email}; request one first")
            elif row["expires_at"] < self._clock():
                conn.execute("DELETE FROM otps" + where, key)
                error = bad_request("the one-time code has expired; request a new one")
            elif not hmac.compare_digest(row["code_hash"], _sha256(code)):
                if row["failures"] + 1 >= OTP_MAX_FAILURES:
                    conn.execute("DELETE FROM otps" + where, key)
                    error = bad_request("wrong one-time code; too many attempts, request a new one")
                else:
                    conn.execute("UPDATE otps SET failures = failures + 1" + where, key)
                    error = bad_request("wrong one-time code")
            else:
                conn.execute("DELETE FROM otps" + where, key)
        if error is not None:
            raise error

    # --- accounts -------------------------------------------------------------------------
    def register(
        self, project_id: str, email: str, password: str, code: object, user_name: str | None
    ) -> dict[str, Any]:
        """Create the user (the project's first user is ADMIN) and sign them in."""
        if self._find(project_id, email) is not None:
            raise EmulatorError(CONFLICT, f"{email} is already registered in this project")
        self._consume_otp(project_id, email, "register", code)
        now = self._clock()
        user_id = secrets.token_hex(12)
        try:
            with self._db.transaction() as conn:
                (count,) = conn.execute(
                    "SELECT COUNT(*) FROM users WHERE project_id = ?", (project_id,)
                ).fetchone()
                conn.execute(
                    "INSERT INTO users (user_id, project_id, email, user_name, role,"
                    " created_time, password_hash) VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (
                        user_id,
                        project_id,
                        email,
                        user_name if user_name is not None else email.split("@")[0],
                        "ADMIN" if count == 0 else "USER",
                        iso_now(now),
                        hash_password(password),
                    ),
                )
        except sqlite3.IntegrityError:
            raise EmulatorError(
                CONFLICT, f"{email} is already registered in this project"
            ) from None
        return self._signed_in(self._get(user_id))

    def sign_in(self, project_id: str, email: str, password: str) -> dict[str, Any]:
        row = self._find(project_id, email)
        if row is None or not check_password(password, row["password_hash"]):
            raise EmulatorError(BAD_CREDENTIALS, "wrong email or password")
        return self._signed_in(row)

    def reset_password(self, project_id: str, email: str, new_password: str, code: object) -> None:
        """Set a new password and revoke every token of the user."""
        row = self._find(project_id, email)
        if row is None:
            raise EmulatorError(NOT_FOUND, f"no user with email {email} in this project")
        self._consume_otp(project_id, email, "resetPassword", code)
        with self._db.transaction() as conn:
            conn.execute(
                "UPDATE users SET password_hash = ? WHERE user_id = ?",
                (hash_password(new_password), row["user_id"]),
            )
            conn.execute("DELETE FROM tokens WHERE user_id = ?", (row["user_id"],))

    def set_role(self, project_id: str, email: str, role: str) -> dict[str, Any]:
        check_role(role)
        with self._db.transaction() as conn:
            changed = conn.execute(
                "UPDATE users SET role = ? WHERE project_id = ? AND email = ?",
                (role, project_id, email),
            ).rowcount
        if not changed:
            raise EmulatorError(NOT_FOUND, f"no user with email {email} in project {project_id}")
        row = self._find(project_id, email)
        assert row is not None
        return _public(row)

    def list_users(self, project_id: str | None = None) -> list[dict[str, Any]]:
        sql = "SELECT * FROM users"
        params: tuple[str, ...] = ()
        if project_id is not None:
            sql, params = sql + " WHERE project_id = ?", (project_id,)
        rows = self._db.query(sql + " ORDER BY created_time, rowid", params)
        return [{"projectId": row["project_id"], **_public(row)} for row in rows]

    # --- tokens ---------------------------------------------------------------------------
    def user_for_token(self, token: str, project_id: str | None = None) -> dict[str, Any]:
        """The user a token belongs to; ``EmulatorError(2100)`` when it is unknown or expired."""
        rows = self._db.query(
            "SELECT project_id, user_id, expires_at FROM tokens WHERE token_hash = ?",
            (_sha256(token),),
        )
        if not rows:
            raise EmulatorError(INVALID_TOKEN, "the user token is invalid; sign in again")
        token_row = rows[0]
        if token_row["expires_at"] < self._clock():
            raise EmulatorError(INVALID_TOKEN, "the user token has expired; sign in again")
        if project_id is not None and token_row["project_id"] != project_id:
            raise EmulatorError(
                INVALID_TOKEN, f"the user token belongs to another project, not {project_id}"
            )
        return _public(self._get(token_row["user_id"]))

    def _signed_in(self, row: sqlite3.Row) -> dict[str, Any]:
        token = secrets.token_urlsafe(32)
        with self._db.transaction() as conn:
            conn.execute(
                "INSERT INTO tokens (token_hash, project_id, user_id, expires_at)"
                " VALUES (?, ?, ?, ?)",
                (
                    _sha256(token),
                    row["project_id"],
                    row["user_id"],
                    self._clock() + self._token_ttl,
                ),
            )
            conn.execute("DELETE FROM tokens WHERE expires_at < ?", (self._clock(),))
        return {**_public(row), "userToken": token}

    def _find(self, project_id: str, email: str) -> sqlite3.Row | None:
        rows = self._db.query(
            "SELECT * FROM users WHERE project_id = ? AND email = ?", (project_id, email)
        )
        return rows[0] if rows else None

    def _get(self, user_id: str) -> sqlite3.Row:
        rows = self._db.query("SELECT * FROM users WHERE user_id = ?", (user_id,))
        if not rows:
            raise EmulatorError(INVALID_TOKEN, "the user of this token no longer exists")
        return rows[0]
