"""Field-level encryption at rest for ID and bank account numbers (PIPL art. 51; standard §5).

A copy of the database (a backup, a replica, a dump sent to a developer) holds these
numbers only as AES-256-GCM ciphertext; the key is in the environment, never in the
database. Each value is stored as ``v1$<key id>$<base64(nonce + ciphertext + tag)>``,
authenticated with its table and column, so a ciphertext copied into another column does
not decrypt.

Keys (settings.FIELD_ENCRYPTION_KEYS, from FIELD_ENCRYPTION_KEY): the first encrypts, all
decrypt; a key's id is the start of its SHA-256, so rotating is: put the new key first,
run `manage.py reencrypt_fields`, then drop the old key.

Exact-match search (duplicate children, the list's search by ID number) cannot use the
ciphertext, which differs on every write: each encrypted column that is searched has a
companion column with an HMAC-SHA256 of the normalised value (NFKC, no whitespace, upper
case) under its own key (FIELD_HASH_KEY), kept in step on every save by KeyedHashField and
indexed. Filter on that column with keyed_hash(); a filter on the encrypted column itself
is refused, as it would silently match nothing.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import os
import unicodedata
from functools import cache

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from django.conf import settings
from django.core.exceptions import FieldError, ImproperlyConfigured
from django.core.signals import setting_changed
from django.db import models
from django.db.models import lookups, signals
from django.dispatch import receiver

PREFIX = "v1"
_NONCE_BYTES = 12


class DecryptionError(Exception):
    """A stored value that no configured key opens: a missing key, or a changed value."""


@cache
def _keys() -> tuple[tuple[str, AESGCM], ...]:
    keys = []
    for raw in settings.FIELD_ENCRYPTION_KEYS:
        key = base64.b64decode(raw + "=" * (-len(raw) % 4), altchars="-_")
        if len(key) != 32:
            raise ImproperlyConfigured(
                "FIELD_ENCRYPTION_KEY: each key is 32 random bytes in base64 (44 characters)."
            )
        keys.append((key_id(key), AESGCM(key)))
    if not keys:
        raise ImproperlyConfigured("FIELD_ENCRYPTION_KEY is not set.")
    return tuple(keys)


def key_id(key: bytes) -> str:
    return hashlib.sha256(key).hexdigest()[:8]


def reset_keys() -> None:
    """Forget the keys read from the settings (tests that change them; key rotation)."""
    _keys.cache_clear()
    _hash_key.cache_clear()


@receiver(setting_changed)
def _keys_changed(*, setting, **kwargs):
    if setting in ("FIELD_ENCRYPTION_KEYS", "FIELD_HASH_KEY"):
        reset_keys()


def is_encrypted(stored: str) -> bool:
    return stored.startswith(PREFIX + "$")


def current_key_id() -> str:
    return _keys()[0][0]


def encrypt(plaintext: str, *, context: str) -> str:
    """The stored form of `plaintext`; `context` is the column ("table.column")."""
    kid, aead = _keys()[0]
    nonce = os.urandom(_NONCE_BYTES)
    sealed = aead.encrypt(nonce, plaintext.encode(), context.encode())
    return f"{PREFIX}${kid}${base64.urlsafe_b64encode(nonce + sealed).decode()}"


def decrypt(stored: str, *, context: str) -> str:
    try:
        prefix, kid, body = stored.split("$", 2)
    except ValueError:
        raise DecryptionError(f"{context}: not an encrypted value") from None
    aead = next((aead for k, aead in _keys() if k == kid), None)
    if prefix != PREFIX or aead is None:
        raise DecryptionError(f"{context}: no configured key has the id {kid!r}")
    try:
        data = base64.urlsafe_b64decode(body)
        return aead.decrypt(data[:_NONCE_BYTES], data[_NONCE_BYTES:], context.encode()).decode()
    except (InvalidTag, ValueError) as exc:  # another column's value, or a changed one
        raise DecryptionError(f"{context}: the value does not decrypt") from exc


def normalize(value: str) -> str:
    """What makes two entries of one number equal: full-width folded, no spaces, upper case."""
    return "".join(unicodedata.normalize("NFKC", value).split()).upper()


def keyed_hash(value: str | None) -> str:
    """The search key of a number: HMAC-SHA256 of its normalised form; "" for no number."""
    text = normalize(value or "")
    if not text:
        return ""
    return hmac.new(_hash_key(), text.encode(), hashlib.sha256).hexdigest()


@cache
def _hash_key() -> bytes:
    return settings.FIELD_HASH_KEY.encode()


def seal_values(values: dict, names, *, context: str) -> dict:
    """`values` with the texts under `names` encrypted: a draft's pending input keeps a
    mistyped ID or account number as typed, and as hidden as a stored one."""
    return {
        key: encrypt(value, context=context)
        if key in names and isinstance(value, str) and value
        else value
        for key, value in values.items()
    }


def open_values(values: dict, *, context: str) -> dict:
    """The reverse of seal_values (a value stored before it was sealed is read as it is)."""
    return {
        key: decrypt(value, context=context)
        if isinstance(value, str) and is_encrypted(value)
        else value
        for key, value in values.items()
    }


class _EmptyOnlyExact(lookups.Exact):
    """`field=""` (no number) works; any other value would compare with fresh ciphertext."""

    def get_prep_lookup(self):
        if self.rhs not in ("", None):
            raise FieldError(
                f"{self.lhs.field.name} is encrypted: filter on "
                f"{self.lhs.field.hash_field or 'its keyed hash'} with cases.crypto.keyed_hash()."
            )
        return super().get_prep_lookup()


class EncryptedCharField(models.CharField):
    """A CharField stored encrypted (AES-GCM); max_length limits the plain value.

    The column is text (the ciphertext is longer than the value). The empty string stays
    empty, so "no number" can still be told apart. Only `isnull` and `=""` lookups are
    allowed: search through the companion KeyedHashField named by `hash_field`.
    """

    def __init__(self, *args, hash_field: str = "", **kwargs):
        self.hash_field = hash_field
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        if self.hash_field:
            kwargs["hash_field"] = self.hash_field
        return name, path, args, kwargs

    def get_internal_type(self):
        return "TextField"

    @property
    def context(self) -> str:
        return f"{self.model._meta.db_table}.{self.column}"

    def from_db_value(self, value, expression, connection):
        if not value:
            return value
        return decrypt(value, context=self.context)

    def get_db_prep_value(self, value, connection, prepared=False):
        value = super().get_db_prep_value(value, connection, prepared)
        if not value:
            return value
        return encrypt(str(value), context=self.context)

    def get_lookup(self, lookup_name):
        if lookup_name == "exact":
            return _EmptyOnlyExact
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        return None

    def get_transform(self, lookup_name):
        return None


class KeyedHashField(models.CharField):
    """The keyed hash of another field's value (`source`), set on every save.

    bulk_create and save() set it; `save(update_fields=[...])` naming the source must name
    this field too (refused otherwise), and QuerySet.update() of the source is not allowed
    for these numbers: it would leave the hash behind.
    """

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("editable", False)
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for key, default in (("max_length", 64), ("blank", True), ("editable", False)):
            if kwargs.get(key) == default:
                del kwargs[key]
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        value = keyed_hash(getattr(model_instance, self.source))
        setattr(model_instance, self.attname, value)
        return value

    def contribute_to_class(self, cls, name, *args, **kwargs):
        super().contribute_to_class(cls, name, *args, **kwargs)
        if not cls._meta.abstract:
            signals.pre_save.connect(self._refuse_partial_update, sender=cls, weak=False)

    def _refuse_partial_update(self, sender, instance, update_fields=None, **kwargs):
        if update_fields and self.source in update_fields and self.name not in update_fields:
            raise ValueError(
                f"save(update_fields=...) names {self.source} without {self.name}: "
                "the search hash would be left behind."
            )
