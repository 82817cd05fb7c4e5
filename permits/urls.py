"""Permit pages (HTML): the public register and permit pages."""

app_name = "permits"

urlpatterns: list = []
