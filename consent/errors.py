"""Every ``code`` an error of the consent app carries, in one enum (the API's ``code``).

A ``StrEnum``: each member is the string clients read, so responses and comparisons with the
plain string keep working. The generic codes (``not_found``, ``permission_denied``, ``invalid``)
are ``lifes.errors``' defaults, named here too so that every code this app answers with is
listed in one place and each raise names its code.
"""

from enum import StrEnum


class Code(StrEnum):
    ALREADY_OPTED_OUT = "already_opted_out"
    ALREADY_WITHDRAWN = "already_withdrawn"
    IMPORT_REFUSED = "import_refused"
    INVALID = "invalid"
    INVALID_CONDITIONS = "invalid_conditions"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
