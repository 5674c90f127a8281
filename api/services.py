"""Every write to API keys, and the check of a key a request presents.

Keys are 64 hexadecimal characters (256 random bits), as Discourse's. Only their
SHA-256 digest is stored: a random key of that length needs no salt or slow hash,
and a leaked table gives nothing that opens the API.
"""

import hashlib
import hmac
import secrets
from dataclasses import dataclass
from datetime import timedelta

from django.contrib.auth import get_user_model
from django.core.exceptions import PermissionDenied, ValidationError
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import permissions as accounts_permissions
from core import clean

from .models import ApiKey, KeyScope

# last_used_at is written at most this often per key, so a busy script costs no write per request.
LAST_USED_PRECISION = timedelta(minutes=1)


def hash_key(raw_key: str) -> str:
    return hashlib.sha256(raw_key.encode("utf-8")).hexdigest()


def create_api_key(
    created_by,
    user,
    *,
    description: str = "",
    read_only: bool = False,
    all_users: bool = False,
) -> tuple[ApiKey, str]:
    """Make a key acting as `user`; returns (key row, the key itself — shown once, never stored).

    Callers: staff (`created_by`), or None for the create_api_key command run on the server.
    An all-users key (acts as whoever Api-Username names) must belong to a staff member.
    Sends nothing.
    """
    if created_by is not None and not accounts_permissions.is_staff(created_by):
        raise PermissionDenied(_("Only staff can create API keys."))
    if not user.is_active:
        raise ValidationError({"user": _("This account is not active.")})
    if all_users and not accounts_permissions.is_staff(user):
        raise ValidationError({"all_users": _("Only a staff member's key can act as any user.")})
    description = clean.clean_line(description or "", "description")
    raw_key = secrets.token_hex(32)
    key = ApiKey.objects.create(
        user=user,
        all_users=all_users,
        scope=KeyScope.READ_ONLY if read_only else KeyScope.READ_WRITE,
        description=(description or "")[:200],
        key_hash=hash_key(raw_key),
        truncated_key=raw_key[:4],
        created_by=created_by,
    )
    return key, raw_key


def revoke_api_key(by, key: ApiKey) -> ApiKey:
    """Stop a key from working, at once and for good. Callers: staff, or None (the server)."""
    if by is not None and not accounts_permissions.is_staff(by):
        raise PermissionDenied(_("Only staff can revoke API keys."))
    if key.revoked_at is None:
        ApiKey.objects.filter(pk=key.pk, revoked_at__isnull=True).update(
            revoked_at=timezone.now(), revoked_by=by
        )
        key.refresh_from_db()
    return key


@dataclass
class KeyUse:
    key: ApiKey
    user: object


def authenticate(raw_key: str, username: str | None) -> KeyUse | None:
    """The key and the person it acts as for this request, or None when anything is wrong.

    Callers: the API middleware. A person's key acts as them (an Api-Username naming someone
    else fails); an all-users key acts as the active person named, while its owner is staff.
    Records when the key was last used (at most once a minute).
    """
    raw_key = (raw_key or "").strip()
    if len(raw_key) != 64:
        return None
    digest = hash_key(raw_key)
    key = ApiKey.objects.select_related("user__organisation").filter(key_hash=digest).first()
    # The digest found the row; comparing again in constant time keeps timing flat all the same.
    if key is None or not hmac.compare_digest(key.key_hash, digest) or key.revoked_at is not None:
        return None
    owner = key.user
    if not owner.is_active:
        return None
    username = (username or "").strip()
    if key.all_users:
        if not accounts_permissions.is_staff(owner):
            return None
        if not username or username.lower() == owner.username.lower():
            acting = owner
        else:
            acting = (
                get_user_model()
                .objects.select_related("organisation")
                .filter(username__iexact=username, is_active=True)
                .first()
            )
            if acting is None:
                return None
    else:
        if username and username.lower() != owner.username.lower():
            return None
        acting = owner
    now = timezone.now()
    if key.last_used_at is None or now - key.last_used_at > LAST_USED_PRECISION:
        ApiKey.objects.filter(pk=key.pk).update(last_used_at=now)
        key.last_used_at = now
    return KeyUse(key=key, user=acting)
