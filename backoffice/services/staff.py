"""Staff accounts: the first owner, signing in, lockout, passwords and roles."""

from __future__ import annotations

import os
import secrets as token_source
import sys
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta

from argon2 import PasswordHasher, Type, extract_parameters
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError
from sqlalchemy import func, select, text
from sqlalchemy.orm import Session

from backoffice import secrets
from backoffice.db import Database
from backoffice.domain.base import utcnow
from backoffice.domain.enums import AuditOutcome, Role
from backoffice.domain.passwords import MAX_PASSWORD_LENGTH, MIN_PASSWORD_LENGTH, password_problem  # noqa: F401
from backoffice.domain.staff import ROLE_LABELS, Actor, Permission, StaffUser
from backoffice.errors import NotFound, PermissionDenied, UserFacingError, ValidationError
from backoffice.services import access, audit

MAX_LOGIN_LENGTH = 64
MAX_NAME_LENGTH = 120
# Wrong passwords in a row before the account locks, and for how long.
MAX_FAILED_LOGINS = 3
LOCK_PERIOD = timedelta(minutes=5)

# Any constant works; it names the lock that serialises changes to staff accounts on
# PostgreSQL, so two desks cannot both remove the last owner or both create the first.
_PG_STAFF_LOCK = 7_301_222

# About 80 ms per hash on a two-core desk machine, with 64 MiB of memory per guess.
_PRODUCTION_PARAMETERS = {"time_cost": 2, "memory_cost": 65536, "parallelism": 2}
# The smallest argon2id work; only for test runs, where hundreds of hashes are made.
_FAST_PARAMETERS = {"time_cost": 1, "memory_cost": 8, "parallelism": 1}

_hasher: PasswordHasher | None = None
_hasher_lock = threading.Lock()


def _get_hasher() -> PasswordHasher:
    global _hasher
    with _hasher_lock:
        if _hasher is None:
            # No switch outside the code weakens this: the app always hashes at full strength.
            _hasher = PasswordHasher(**_PRODUCTION_PARAMETERS)
        return _hasher


def use_fast_hashing_for_tests() -> None:
    """Hash passwords with minimal work from now on, in a pytest run only.

    Raises RuntimeError anywhere else, so nothing but the test suite can weaken hashes.
    """
    global _hasher
    if "pytest" not in sys.modules or "PYTEST_CURRENT_TEST" not in os.environ:
        raise RuntimeError("Fast password hashing is for the test suite only.")
    with _hasher_lock:
        _hasher = PasswordHasher(**_FAST_PARAMETERS)


def _stronger_than(hasher: PasswordHasher, stored_hash: str) -> bool:
    """Whether `hasher` does at least as much work as `stored_hash` in every respect, and more
    in one: a hash is only ever made again upwards, never down to weaker parameters."""
    try:
        old = extract_parameters(stored_hash)
    except (InvalidHashError, ValueError):
        return True
    new = hasher
    if new.time_cost < old.time_cost or new.memory_cost < old.memory_cost:
        return False
    return (new.time_cost, new.memory_cost) != (old.time_cost, old.memory_cost) or old.type != Type.ID


def hash_password(password: str) -> str:
    """The argon2id hash of `password`, for storing (raises ValidationError if too weak)."""
    _check_password(password)
    return _get_hasher().hash(password)


def _password_matches(stored_hash: str, password: str) -> bool:
    try:
        return _get_hasher().verify(stored_hash, password)
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


# A hash to check unknown logins against, so an unknown login takes as long as a known one.
_dummy_hash: str | None = None


def _spend_hash_time(password: str) -> None:
    global _dummy_hash
    if _dummy_hash is None:
        _dummy_hash = _get_hasher().hash("not a password of anyone")
    _password_matches(_dummy_hash, password)


# --- rules, shared with the screens for inline messages ------------------------------

def login_problem(login: str) -> str | None:
    """Why `login` cannot be used, or None. Logins are compared without case or outer spaces."""
    login = normalise_login(login)
    if not login:
        return "Enter a login."
    if len(login) > MAX_LOGIN_LENGTH:
        return f"Use at most {MAX_LOGIN_LENGTH} characters."
    if any(ch.isspace() for ch in login):
        return "A login cannot contain spaces."
    return None


def name_problem(display_name: str) -> str | None:
    """Why `display_name` cannot be used, or None."""
    name = display_name.strip()
    if not name:
        return "Enter a name."
    if len(name) > MAX_NAME_LENGTH:
        return f"Use at most {MAX_NAME_LENGTH} characters."
    return None


def normalise_login(login: str) -> str:
    return login.strip().casefold()


def _check_password(password: str, field: str = "password") -> None:
    problem = password_problem(password)
    if problem:
        raise ValidationError(f"This password cannot be used: {problem[0].lower()}{problem[1:]}",
                              fields={field: problem})


def _check_account_fields(login: str, display_name: str) -> None:
    problems = {}
    if (p := login_problem(login)) is not None:
        problems["login"] = p
    if (p := name_problem(display_name)) is not None:
        problems["display_name"] = p
    if problems:
        raise ValidationError("Some details of the account are missing or wrong.", fields=problems)


# --- results -------------------------------------------------------------------------

@dataclass(frozen=True)
class StaffSummary:
    """One staff account as the staff screen shows it."""

    id: int
    login: str
    display_name: str
    role: Role
    active: bool
    locked_until: datetime | None
    must_change_password: bool
    last_login_at: datetime | None
    created_at: datetime

    @property
    def role_label(self) -> str:
        return ROLE_LABELS[self.role]

    def is_locked(self, now: datetime | None = None) -> bool:
        return self.locked_until is not None and self.locked_until > (now or utcnow())


def _summary(user: StaffUser) -> StaffSummary:
    return StaffSummary(
        id=user.id,
        login=user.login,
        display_name=user.display_name,
        role=user.role,
        active=user.active,
        locked_until=user.locked_until,
        must_change_password=user.must_change_password,
        last_login_at=user.last_login_at,
        created_at=user.created_at,
    )


class SignInRefused(UserFacingError):
    """Signing in (or unlocking a desk) was refused: wrong password, disabled account."""


class WrongPassword(SignInRefused):
    """The login or the password did not match."""


class AccountDisabled(SignInRefused):
    """The owner disabled this account."""


class AccountLocked(SignInRefused):
    """Too many wrong passwords; `until` says when the account opens again."""

    def __init__(self, until: datetime) -> None:
        local = until.astimezone()
        super().__init__(
            f"Too many wrong passwords; this account is locked until {local:%H:%M}."
        )
        self.until = until


class StaffExists(UserFacingError):
    """A first owner was asked for, but the database already has staff accounts."""


WRONG_LOGIN_MESSAGE = (
    "The login or the password is wrong. After {n} wrong passwords in a row the account "
    "locks for {m} minutes."
).format(n=MAX_FAILED_LOGINS, m=int(LOCK_PERIOD.total_seconds() // 60))


# --- helpers -------------------------------------------------------------------------

def _serialise_staff_changes(s: Session) -> None:
    if s.get_bind().dialect.name == "postgresql":
        s.execute(text("SELECT pg_advisory_xact_lock(:k)"), {"k": _PG_STAFF_LOCK})


def _user_for_update(s: Session, **where) -> StaffUser | None:
    stmt = select(StaffUser).filter_by(**where).with_for_update()
    return s.execute(stmt).scalar_one_or_none()


def _active_owner_count(s: Session) -> int:
    return s.execute(
        select(func.count()).select_from(StaffUser).where(
            StaffUser.role == Role.OWNER, StaffUser.active.is_(True))
    ).scalar_one()


def _require_manager(db: Database, actor: Actor) -> None:
    """The actor must hold MANAGE_STAFF, and their account must still be active with that role.

    A role or account changed at another desk takes effect at once, not at the next sign-in.
    """
    access.require(db, actor, Permission.MANAGE_STAFF)
    with db.read() as s:
        row = s.execute(
            select(StaffUser.active, StaffUser.role).where(StaffUser.id == actor.staff_id)
        ).one_or_none()
    if row is None or not row.active or row.role != actor.role:
        with db.begin() as s:
            audit.record(s, actor, f"denied:{Permission.MANAGE_STAFF.value}",
                         outcome=AuditOutcome.DENIED)
        raise PermissionDenied(
            "Your account was changed since you signed in; sign in again to manage staff."
        )


def _target(s: Session, staff_id: int) -> StaffUser:
    user = _user_for_update(s, id=staff_id)
    if user is None:
        raise NotFound("This staff account no longer exists.")
    return user


def _release_lock(user: StaffUser) -> None:
    user.failed_logins = 0
    user.locked_until = None


# --- first start ---------------------------------------------------------------------

def needs_first_owner(db: Database) -> bool:
    """True while the database has no staff account at all (a brand-new shop)."""
    with db.read() as s:
        return s.execute(select(func.count()).select_from(StaffUser)).scalar_one() == 0


def create_first_owner(db: Database, *, login: str, display_name: str, password: str,
                       desk: str = "") -> Actor:
    """Create the shop owner's account on a new database and sign them in.

    Raises ValidationError for a bad login, name or password, and StaffExists when
    the database already has staff (someone created an account meanwhile).
    """
    _check_account_fields(login, display_name)
    _check_password(password)
    password_hash = _get_hasher().hash(password)
    with db.begin() as s:
        _serialise_staff_changes(s)
        if s.execute(select(func.count()).select_from(StaffUser)).scalar_one():
            raise StaffExists(
                "This database already has staff accounts, so no new owner was created; "
                "sign in instead."
            )
        user = StaffUser(
            login=normalise_login(login), display_name=display_name.strip(), role=Role.OWNER,
            password_hash=password_hash, active=True, failed_logins=0,
            must_change_password=False, last_login_at=utcnow(),
        )
        s.add(user)
        s.flush()
        actor = user.actor(desk=desk)
        audit.record(s, actor, "staff_added", entity_type="staff", entity_id=user.id,
                     fields=["login", "display_name", "role", "password"])
        audit.record(s, actor, "login", entity_type="staff", entity_id=user.id)
    return actor


# --- signing in ----------------------------------------------------------------------

def authenticate(db: Database, *, login: str, password: str, desk: str) -> Actor:
    """Sign a staff member in at `desk` and return who is acting.

    Raises SignInRefused for a wrong login or password or a disabled account, and
    AccountLocked after MAX_FAILED_LOGINS wrong passwords in a row (the account stays
    locked for LOCK_PERIOD). Every attempt is audited, without the login typed.
    """
    now = utcnow()
    refusal: SignInRefused | None = None
    with db.begin() as s:
        user = _user_for_update(s, login=normalise_login(login))
        if user is None:
            _spend_hash_time(password)
            audit.record(s, Actor(None, "", Role.ORDER_TAKER, desk), "login_failed",
                         entity_type="staff", fields=["login"], outcome=AuditOutcome.FAILED)
            refusal = WrongPassword(WRONG_LOGIN_MESSAGE)
        else:
            actor = user.actor(desk=desk)
            refusal = _check_attempt(s, user, actor, password, now, success_action="login",
                                     failed_action="login_failed")
            if refusal is None:
                user.last_login_at = now
    if refusal is not None:
        raise refusal
    return actor


def _check_attempt(s: Session, user: StaffUser, actor: Actor, password: str, now: datetime, *,
                   success_action: str | None, failed_action: str) -> SignInRefused | None:
    """Check one password attempt on `user`, count it and audit it; the refusal, or None."""
    if user.locked_until is not None and user.locked_until > now:
        audit.record(s, actor, "login_locked", entity_type="staff", entity_id=user.id,
                     outcome=AuditOutcome.DENIED)
        return AccountLocked(user.locked_until)
    if not user.active:
        audit.record(s, actor, failed_action, entity_type="staff", entity_id=user.id,
                     fields=["active"], outcome=AuditOutcome.DENIED)
        return AccountDisabled("This account is disabled. Ask the shop owner to enable it.")
    if user.locked_until is not None:  # the lock has run out
        _release_lock(user)
    if not _password_matches(user.password_hash, password):
        user.failed_logins = (user.failed_logins or 0) + 1
        audit.record(s, actor, failed_action, entity_type="staff", entity_id=user.id,
                     fields=["password"], outcome=AuditOutcome.FAILED)
        if user.failed_logins >= MAX_FAILED_LOGINS:
            user.failed_logins = 0
            user.locked_until = now + LOCK_PERIOD
            audit.record(s, actor, "login_locked", entity_type="staff", entity_id=user.id,
                         fields=["locked_until"], outcome=AuditOutcome.DENIED)
            return AccountLocked(user.locked_until)
        return WrongPassword(WRONG_LOGIN_MESSAGE)
    _release_lock(user)
    hasher = _get_hasher()
    if hasher.check_needs_rehash(user.password_hash) and _stronger_than(hasher, user.password_hash):
        user.password_hash = hasher.hash(password)
    if success_action:
        audit.record(s, actor, success_action, entity_type="staff", entity_id=user.id)
    return None


def sign_in_headless(db: Database, *, login: str, password: str, desk: str = "cli") -> Actor:
    """Sign in for a command-line run; raises like `authenticate`."""
    if not login:
        raise SignInRefused("Say which staff account to act as (--as LOGIN or $BACKOFFICE_LOGIN).")
    return authenticate(db, login=login, password=password, desk=desk)


def verify_password(db: Database, *, actor: Actor, password: str) -> bool:
    """Whether `password` is the signed-in staff member's own (to unlock an idle desk).

    Wrong passwords count towards the lockout like at sign-in. Raises AccountLocked
    when the account is (or just became) locked, and SignInRefused when it was
    disabled meanwhile.
    """
    refusal: SignInRefused | None = None
    with db.begin() as s:
        user = _user_for_update(s, id=actor.staff_id) if actor.staff_id is not None else None
        if user is None:
            raise SignInRefused("This account no longer exists; sign out.")
        refusal = _check_attempt(s, user, actor, password, utcnow(), success_action="unlock",
                                 failed_action="unlock_failed")
    if refusal is None:
        return True
    if isinstance(refusal, WrongPassword):
        return False
    raise refusal


def sign_out(db: Database, *, actor: Actor) -> None:
    """Record that the staff member signed out at their desk."""
    with db.begin() as s:
        audit.record(s, actor, "logout", entity_type="staff", entity_id=actor.staff_id)


def password_change_required(db: Database, *, actor: Actor) -> bool:
    """True when the owner reset this account's password and it must be changed now."""
    with db.read() as s:
        return bool(s.execute(
            select(StaffUser.must_change_password).where(StaffUser.id == actor.staff_id)
        ).scalar_one_or_none())


def change_own_password(db: Database, *, actor: Actor, old: str, new: str) -> None:
    """Change the signed-in staff member's password.

    Raises ValidationError (`old` wrong, `new` too weak or unchanged), AccountLocked
    when too many wrong passwords were given.
    """
    _check_password(new, "new")
    if new == old:
        raise ValidationError("The new password must differ from the old one.",
                              fields={"new": "Choose a password you have not used here."})
    new_hash = _get_hasher().hash(new)
    now = utcnow()
    with db.begin() as s:
        user = _user_for_update(s, id=actor.staff_id) if actor.staff_id is not None else None
        if user is None:
            raise NotFound("This staff account no longer exists.")
        refusal = _check_attempt(s, user, actor, old, now, success_action=None,
                                 failed_action="password_change_failed")
        if refusal is None:
            user.password_hash = new_hash
            user.must_change_password = False
            audit.record(s, actor, "password_changed", entity_type="staff", entity_id=user.id,
                         fields=["password"])
    if isinstance(refusal, WrongPassword):
        raise ValidationError("The current password is wrong; the password was not changed.",
                              fields={"old": "This is not your current password."})
    if refusal is not None:
        raise refusal


# --- managing staff (owner only) -----------------------------------------------------

def list_staff(db: Database, *, actor: Actor) -> list[StaffSummary]:
    """Every staff account, active ones first, by name. Raises PermissionDenied."""
    _require_manager(db, actor)
    with db.read() as s:
        users = s.execute(
            select(StaffUser).order_by(StaffUser.active.desc(), StaffUser.display_name, StaffUser.id)
        ).scalars().all()
        return [_summary(u) for u in users]


def add_staff(db: Database, *, actor: Actor, login: str, display_name: str, role: Role,
              password: str) -> StaffSummary:
    """Create a staff account with a first password (to be changed at first sign-in).

    Raises PermissionDenied (not the owner) and ValidationError (bad or taken login,
    missing name, weak password).
    """
    _require_manager(db, actor)
    role = Role(role)
    if role == Role.SCHEDULED_JOB:
        raise ValidationError("A scheduled-job account is made with `backoffice staff add-job-account`, "
                              "with a token instead of a password; nothing was created.",
                              fields={"role": "Choose a role for a person."})
    _check_account_fields(login, display_name)
    _check_password(password)
    password_hash = _get_hasher().hash(password)
    with db.begin() as s:
        _serialise_staff_changes(s)
        login = normalise_login(login)
        if s.execute(select(StaffUser.id).where(StaffUser.login == login)).first():
            raise ValidationError("This login is taken; nothing was created.",
                                  fields={"login": "Another account uses this login."})
        user = StaffUser(
            login=login, display_name=display_name.strip(), role=role,
            password_hash=password_hash, active=True, failed_logins=0,
            must_change_password=True,
        )
        s.add(user)
        s.flush()
        audit.record(s, actor, "staff_added", entity_type="staff", entity_id=user.id,
                     fields=["login", "display_name", "role", "password"])
        return _summary(user)


def disable_refusal(target: StaffSummary, *, actor: Actor, active_owners: int) -> str | None:
    """Why `actor` may not disable `target`, or None when it is allowed."""
    if not target.active:
        return "This account is already disabled."
    if target.id == actor.staff_id:
        return "You cannot disable your own account."
    if target.role == Role.OWNER and active_owners <= 1:
        return "This is the last active owner account; it cannot be disabled."
    return None


def role_change_refusal(target: StaffSummary, role: Role, *, active_owners: int) -> str | None:
    """Why `target` may not get `role`, or None when it is allowed."""
    if (target.role == Role.SCHEDULED_JOB) != (Role(role) == Role.SCHEDULED_JOB):
        # The job's token would otherwise open a person's permissions, or a person's password a job's.
        return "A scheduled-job account and a person's account cannot take each other's roles."
    if target.role == Role.OWNER and role != Role.OWNER and target.active and active_owners <= 1:
        return "This is the last active owner account; make another owner first."
    return None


def disable_staff(db: Database, *, actor: Actor, staff_id: int) -> StaffSummary:
    """Disable an account so it can no longer sign in.

    Raises PermissionDenied, NotFound, and UserFacingError for your own account or
    the last active owner.
    """
    _require_manager(db, actor)
    with db.begin() as s:
        _serialise_staff_changes(s)
        user = _target(s, staff_id)
        reason = disable_refusal(_summary(user), actor=actor, active_owners=_active_owner_count(s))
        if reason:
            raise UserFacingError(f"{reason} Nothing was changed.")
        user.active = False
        audit.record(s, actor, "staff_disabled", entity_type="staff", entity_id=user.id,
                     fields=["active"])
        return _summary(user)


def enable_staff(db: Database, *, actor: Actor, staff_id: int) -> StaffSummary:
    """Enable a disabled account again (and lift any lock). Raises PermissionDenied, NotFound."""
    _require_manager(db, actor)
    with db.begin() as s:
        user = _target(s, staff_id)
        if not user.active or user.locked_until is not None:
            user.active = True
            _release_lock(user)
            audit.record(s, actor, "staff_enabled", entity_type="staff", entity_id=user.id,
                         fields=["active"])
        return _summary(user)


def reset_password(db: Database, *, actor: Actor, staff_id: int, new_password: str) -> StaffSummary:
    """Give an account a new password, to be changed at its next sign-in; lifts any lock.

    Raises PermissionDenied, NotFound, ValidationError (weak password).
    """
    _require_manager(db, actor)
    _check_password(new_password)
    new_hash = _get_hasher().hash(new_password)
    with db.begin() as s:
        user = _target(s, staff_id)
        user.password_hash = new_hash
        user.must_change_password = True
        _release_lock(user)
        audit.record(s, actor, "password_reset", entity_type="staff", entity_id=user.id,
                     fields=["password"])
        return _summary(user)


def change_role(db: Database, *, actor: Actor, staff_id: int, role: Role) -> StaffSummary:
    """Give an account another role. Raises PermissionDenied, NotFound, and
    UserFacingError when it would leave the shop without an active owner.
    """
    _require_manager(db, actor)
    role = Role(role)
    with db.begin() as s:
        _serialise_staff_changes(s)
        user = _target(s, staff_id)
        reason = role_change_refusal(_summary(user), role, active_owners=_active_owner_count(s))
        if reason:
            raise UserFacingError(f"{reason} Nothing was changed.")
        if user.role != role:
            user.role = role
            audit.record(s, actor, "role_changed", entity_type="staff", entity_id=user.id,
                         fields=["role"])
        return _summary(user)


# --- the account unattended jobs act as ------------------------------------------------

ENV_JOB_TOKEN = "BACKOFFICE_JOB_TOKEN"
_JOB_TOKEN_KIND = "job-token"


@dataclass(frozen=True)
class JobAccount:
    """A scheduled-job account just made; `token` is given only when no keyring could keep it."""

    account: StaffSummary
    in_keyring: bool
    token: str | None


def _job_token_name(db: Database, login: str) -> str:
    with db.read() as s:
        return f"{audit.database_name(s)}#{normalise_login(login)}"


def add_job_account(db: Database, *, actor: Actor, login: str = "scheduled-job",
                    display_name: str = "Scheduled job") -> JobAccount:
    """Make the account a cron job acts as: it may only sync, and signs in with a long
    random token kept in this machine's keyring (nobody types or sees it).

    Raises PermissionDenied (not the owner), ValidationError (bad or taken login).
    """
    _require_manager(db, actor)
    _check_account_fields(login, display_name)
    token = token_source.token_urlsafe(32)
    token_hash = _get_hasher().hash(token)
    with db.begin() as s:
        _serialise_staff_changes(s)
        login = normalise_login(login)
        if s.execute(select(StaffUser.id).where(StaffUser.login == login)).first():
            raise ValidationError("This login is taken; nothing was created.",
                                  fields={"login": "Another account uses this login."})
        user = StaffUser(login=login, display_name=display_name.strip(), role=Role.SCHEDULED_JOB,
                         password_hash=token_hash, active=True, failed_logins=0,
                         must_change_password=False)
        s.add(user)
        s.flush()
        audit.record(s, actor, "staff_added", entity_type="staff", entity_id=user.id,
                     fields=["login", "display_name", "role", "password"])
        summary = _summary(user)
    kept = secrets.set_secret(_JOB_TOKEN_KIND, _job_token_name(db, login), token)
    return JobAccount(summary, kept, None if kept else token)


def sign_in_job(db: Database, *, login: str, desk: str = "scheduled") -> Actor:
    """Sign a scheduled job in as `login`, with the token this machine keeps for it (or
    $BACKOFFICE_JOB_TOKEN). Audited like any sign-in.

    Raises SignInRefused when there is no token here, the token is wrong, or `login`
    is not a scheduled-job account.
    """
    if not login:
        raise SignInRefused("Say which job account to act as (--job LOGIN).")
    token = os.environ.get(ENV_JOB_TOKEN) or secrets.get_secret(_JOB_TOKEN_KIND, _job_token_name(db, login))
    if not token:
        raise SignInRefused(
            f"This machine holds no token for the job account {normalise_login(login)}; the owner "
            "makes the account here with `backoffice staff add-job-account`. Nothing was done."
        )
    actor = authenticate(db, login=login, password=token, desk=desk)
    if actor.role != Role.SCHEDULED_JOB:
        raise SignInRefused(f"{actor.login} is not a scheduled-job account; nothing was done.")
    return actor
