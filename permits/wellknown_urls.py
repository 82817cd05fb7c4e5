"""/.well-known/ documents (the hub's JWKS)."""

urlpatterns: list = []
