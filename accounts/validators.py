"""Identifier validators: ORCID iD (ISO 7064 11-2) and ROR id (ISO 7064 97-10).

Written by hand because both are a few lines of published arithmetic and no maintained
library validates both checksums.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError
from django.utils.translation import gettext_lazy as _

from accounts.errors import Code

ORCID_RE = re.compile(r"^(\d{4})-(\d{4})-(\d{4})-(\d{3}[\dX])$")
ROR_RE = re.compile(r"^0[0-9a-hjkmnp-tv-z]{6}\d{2}$")
_CROCKFORD = "0123456789abcdefghjkmnpqrstvwxyz"


def normalise_orcid(value: str) -> str:
    value = value.strip()
    for prefix in ("https://orcid.org/", "http://orcid.org/", "orcid.org/"):
        if value.lower().startswith(prefix):
            value = value[len(prefix) :]
    return value.upper()


def orcid_checksum_ok(orcid: str) -> bool:
    digits = orcid.replace("-", "")
    total = 0
    for char in digits[:-1]:
        total = (total + int(char)) * 2
    check = (12 - total % 11) % 11
    expected = "X" if check == 10 else str(check)
    return digits[-1] == expected


def validate_orcid(value: str) -> None:
    orcid = normalise_orcid(value)
    if not ORCID_RE.match(orcid):
        raise ValidationError(
            _("Enter an ORCID iD as 0000-0000-0000-0000 (the last character may be X)."),
            code=Code.ORCID_FORMAT,
        )
    if not orcid_checksum_ok(orcid):
        raise ValidationError(
            _("This ORCID iD has a wrong check digit; please copy it from your ORCID record."),
            code=Code.ORCID_CHECKSUM,
        )


def normalise_ror(value: str) -> str:
    value = value.strip().lower()
    for prefix in ("https://ror.org/", "http://ror.org/", "ror.org/"):
        if value.startswith(prefix):
            value = value[len(prefix) :]
    return value


def ror_checksum_ok(ror: str) -> bool:
    number = 0
    for char in ror[1:7]:
        number = number * 32 + _CROCKFORD.index(char)
    return int(ror[7:9]) == 98 - ((number * 100) % 97)


def validate_ror(value: str) -> None:
    ror = normalise_ror(value)
    if not ROR_RE.match(ror):
        raise ValidationError(
            _("Enter a ROR id such as 05xvt9f17 (9 characters, starting with 0)."),
            code=Code.ROR_FORMAT,
        )
    if not ror_checksum_ok(ror):
        raise ValidationError(_("This ROR id has a wrong checksum."), code=Code.ROR_CHECKSUM)
