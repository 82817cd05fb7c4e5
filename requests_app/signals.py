"""Signals other apps listen to (sent after commit)."""

from django.dispatch import Signal

# Sent with ``request_id`` when every owner has decided and at least one dataset is granted.
request_approved = Signal()

# Sent with ``request_id`` after a request was closed: a permit it still has must end too.
request_closed = Signal()
