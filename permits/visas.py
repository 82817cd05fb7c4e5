"""Permits as GA4GH Passport visas, for systems that speak GA4GH rather than LIFES permits.

One ``ControlledAccessGrants`` visa per active permit and dataset (GA4GH Passport v1.2, "Passport
Visa Format"): header ``{"typ": "JWT", "alg": "ES256", "kid", "jku"}``; claims ``iss``, ``sub``,
``iat``, ``exp``, ``jti`` and ``ga4gh_visa_v1`` = ``{type, asserted, value, source, by}``.
The AAI profile allows RS256 or ES256 for visas, not EdDSA, so visas have their own EC P-256 key:
``visa-es256.pem`` in ``SIGNING_KEY_DIR`` (created on first use, mode 0600) or the PEM in
``VISA_SIGNING_KEY_PEM``. Its public half is served at ``/.well-known/visa-jwks.json``, the
``jku`` of every visa. Visas are short-lived (``VISA_TTL``) and never outlive their permit, so a
revoked permit stops being asserted within that time.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import os
import tempfile
import uuid
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import jwt
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import (
    BestAvailableEncryption,
    Encoding,
    NoEncryption,
    PrivateFormat,
    load_pem_private_key,
)
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.urls import reverse
from django.utils import timezone

from lifes_node.keys import b64url_encode, jwk_thumbprint
from permits.models import Permit, PermitStatus
from permits.services.common import holder_subject, timestamp

VISA_ALGORITHM = "ES256"
VISA_KEY_FILE = "visa-es256.pem"
VISA_TYPE = "ControlledAccessGrants"
RESEARCHER_STATUS = "ResearcherStatus"
# The Registered Access "bona fide researcher" definition, the value the GA4GH Passport spec
# gives for ResearcherStatus visas.
BONA_FIDE_RESEARCHER = "https://doi.org/10.1038/s41431-018-0219-y"


@dataclass(frozen=True)
class VisaKey:
    kid: str
    private_key: ec.EllipticCurvePrivateKey
    public_jwk: dict[str, str]


def _public_jwk(key: ec.EllipticCurvePrivateKey) -> dict[str, str]:
    numbers = key.public_key().public_numbers()
    members = {
        "crv": "P-256",
        "kty": "EC",
        "x": b64url_encode(numbers.x.to_bytes(32, "big")),
        "y": b64url_encode(numbers.y.to_bytes(32, "big")),
    }
    kid = jwk_thumbprint(members)
    return {
        "kty": "EC",
        "crv": "P-256",
        "kid": kid,
        "x": members["x"],
        "y": members["y"],
        "use": "sig",
        "alg": VISA_ALGORITHM,
    }


def _load(data: bytes, source: str) -> ec.EllipticCurvePrivateKey:
    passphrase = settings.SIGNING_KEY_PASSPHRASE.encode("utf-8") or None
    try:
        key = load_pem_private_key(data, password=passphrase)
    except (TypeError, ValueError) as exc:
        raise ImproperlyConfigured(f"cannot load the visa key from {source}: {exc}") from exc
    if not isinstance(key, ec.EllipticCurvePrivateKey) or key.curve.name != "secp256r1":
        raise ImproperlyConfigured(f"the visa key in {source} is not an EC P-256 key")
    return key


def _create_file(path: Path) -> None:
    """Write a new key with mode 0600 from the first byte, then link it into place: ``link``
    fails if another process got there first, and then its (complete) key is the one used."""
    passphrase = settings.SIGNING_KEY_PASSPHRASE.encode("utf-8")
    encryption = BestAvailableEncryption(passphrase) if passphrase else NoEncryption()
    pem = ec.generate_private_key(ec.SECP256R1()).private_bytes(
        Encoding.PEM, PrivateFormat.PKCS8, encryption
    )
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    descriptor, temporary = tempfile.mkstemp(dir=path.parent, prefix=".visa.", suffix=".tmp")
    try:
        os.fchmod(descriptor, 0o600)
        with os.fdopen(descriptor, "wb") as handle:
            handle.write(pem)
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)
        except FileExistsError:
            pass
    finally:
        Path(temporary).unlink(missing_ok=True)


_cache: dict[tuple[str, str], VisaKey] = {}


def visa_key() -> VisaKey:
    """The visa signing key (environment first, else the key file, created when missing)."""
    if settings.VISA_SIGNING_KEY_PEM:
        data, source = settings.VISA_SIGNING_KEY_PEM.encode("utf-8"), "VISA_SIGNING_KEY_PEM"
        cache_key = ("env", hashlib.sha256(data).hexdigest())
    else:
        path = Path(settings.SIGNING_KEY_DIR) / VISA_KEY_FILE
        if not path.exists():
            _create_file(path)
        data, source = path.read_bytes(), str(path)
        cache_key = (str(path), hashlib.sha256(data).hexdigest())
    found = _cache.get(cache_key)
    if found is None:
        private_key = _load(data, source)
        jwk = _public_jwk(private_key)
        found = _cache[cache_key] = VisaKey(jwk["kid"], private_key, jwk)
    return found


def visa_jwks() -> dict[str, list[dict[str, str]]]:
    return {"keys": [visa_key().public_jwk]}


def visa_jwks_url() -> str:
    return settings.HUB_URL + reverse("visa_jwks")


def _url_of(dataset: Any) -> str:
    """The visa ``value``: the dataset's persistent identifier when it is a URL (a DOI link),
    else its catalogue page, so the value is always a URL as ControlledAccessGrants requires."""
    pid = dataset.persistent_identifier
    if pid.startswith(("https://", "http://")):
        return pid
    return settings.HUB_URL + reverse("catalogue:dataset_detail", args=[dataset.slug])


def _source_of(dataset: Any) -> str:
    """The organisation that granted access (the dataset owner), by its ROR URL when it has
    one; otherwise the hub, whose review made the grant."""
    ror = dataset.owner.ror_id
    return f"https://ror.org/{ror}" if ror else settings.HUB_URL


def _researcher_status(user: Any, now: dt.datetime, key: VisaKey) -> str | None:
    """A ResearcherStatus visa when an institution's identity provider asserted who the user
    is (their latest OIDC sign-in); ``source`` is that provider, ``by`` ``system``."""
    from audit.models import AuditEvent

    login = (
        AuditEvent.objects.filter(
            action="user.institutional_login", object_type="accounts.user", object_id=str(user.pk)
        )
        .order_by("-occurred_at", "-pk")
        .first()
    )
    if login is None:
        return None
    claims = {
        "iss": settings.HUB_URL,
        "sub": f"user:{user.pk}",
        "jti": str(uuid.uuid4()),
        "iat": timestamp(now),
        "exp": timestamp(now + dt.timedelta(seconds=settings.VISA_TTL)),
        "ga4gh_visa_v1": {
            "type": RESEARCHER_STATUS,
            "asserted": timestamp(login.occurred_at),
            "value": BONA_FIDE_RESEARCHER,
            "source": login.payload.get("issuer", ""),
            "by": "system",
        },
    }
    headers = {"typ": "JWT", "kid": key.kid, "jku": visa_jwks_url()}
    return jwt.encode(claims, key.private_key, algorithm=VISA_ALGORITHM, headers=headers)


def passport_visas(user: Any, *, now: dt.datetime | None = None) -> list[str]:
    """The ``ga4gh_passport_v1`` list of ``user``: a visa per active permit and dataset, and a
    ResearcherStatus visa when an institutional sign-in asserted the user's identity."""
    now = (now or timezone.now()).replace(microsecond=0)
    permits = (
        Permit.objects.filter(
            holder=user, status=PermitStatus.ACTIVE, valid_from__lte=now, valid_until__gt=now
        )
        .prefetch_related("permit_datasets__dataset__owner")
        .order_by("issued_at", "pk")
    )
    key = visa_key()
    headers = {"typ": "JWT", "kid": key.kid, "jku": visa_jwks_url()}
    visas = []
    for permit in permits:
        expires = min(permit.valid_until, now + dt.timedelta(seconds=settings.VISA_TTL))
        for entry in permit.permit_datasets.all():
            claims = {
                "iss": settings.HUB_URL,
                "sub": holder_subject(permit),
                "jti": str(uuid.uuid4()),
                "iat": timestamp(now),
                "exp": timestamp(expires),
                "ga4gh_visa_v1": {
                    "type": VISA_TYPE,
                    "asserted": timestamp(permit.issued_at),
                    "value": _url_of(entry.dataset),
                    "source": _source_of(entry.dataset),
                    "by": "dac",
                },
            }
            visas.append(
                jwt.encode(claims, key.private_key, algorithm=VISA_ALGORITHM, headers=headers)
            )
    status = _researcher_status(user, now, key)
    if status is not None:
        visas.append(status)
    return visas
