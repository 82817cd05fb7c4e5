"""Permits and node API under /api/v1/."""

urlpatterns: list = []
