"""Every ``code`` an error of the accounts app carries, in one enum (the API's ``code``).

A ``StrEnum``: each member is the string clients read, so responses and comparisons with the
plain string keep working. The generic codes (``not_found``, ``permission_denied``, ``invalid``)
are ``lifes.errors``' defaults, named here too so that every code this app answers with is
listed in one place and each raise names its code.
"""

from enum import StrEnum


class Code(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    ORCID_CHECKSUM = "orcid_checksum"
    ORCID_FORMAT = "orcid_format"
    OTP_INVALID = "otp_invalid"
    PERMISSION_DENIED = "permission_denied"
    ROR_CHECKSUM = "ror_checksum"
    ROR_FORMAT = "ror_format"
    TOKEN_CANNOT_MINT = "token_cannot_mint"  # noqa: S105 - an error code, not a password
    TOKEN_READ_ONLY = "token_read_only"  # noqa: S105 - an error code, not a password
