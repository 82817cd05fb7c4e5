"""Every ``code`` an error of the catalogue app carries, in one enum (the API's ``code``).

A ``StrEnum``: each member is the string clients read, so responses and comparisons with the
plain string keep working. The generic codes (``not_found``, ``permission_denied``, ``invalid``)
are ``lifes.errors``' defaults, named here too so that every code this app answers with is
listed in one place and each raise names its code.
"""

from enum import StrEnum


class Code(StrEnum):
    INVALID = "invalid"
    NOT_FOUND = "not_found"
    PERMISSION_DENIED = "permission_denied"
    # EHDS data dictionary and data-use terms
    DICTIONARY_INVALID = "dictionary_invalid"
    TERMS_EMPTY = "terms_empty"
