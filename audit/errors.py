"""Every ``code`` an error of the audit app carries, in one enum (the API's ``code``).

A ``StrEnum``: each member is the string clients read, so responses and comparisons with the
plain string keep working. The generic codes (``not_found``, ``permission_denied``, ``invalid``)
are ``lifes.errors``' defaults, named here too so that every code this app answers with is
listed in one place and each raise names its code.
"""

from enum import StrEnum


class Code(StrEnum):
    AUDIT_LOG_BROKEN = "audit_log_broken"
    INVALID_LEAF_INDEX = "invalid_leaf_index"
    INVALID_TREE_SIZE = "invalid_tree_size"
    NO_TREE_HEAD = "no_tree_head"
    NOT_LOGGED = "not_logged"
    PERMISSION_DENIED = "permission_denied"
