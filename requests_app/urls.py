"""Access request pages (HTML)."""

app_name = "requests"

urlpatterns: list = []
