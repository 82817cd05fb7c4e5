"""The audit API under /api/v1/audit/."""

urlpatterns: list = []
