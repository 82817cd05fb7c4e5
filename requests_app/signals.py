"""Signals other apps listen to (sent after commit)."""

from django.dispatch import Signal

# Sent with ``request_id`` when every owner has decided and at least one dataset is granted.
request_approved = Signal()
