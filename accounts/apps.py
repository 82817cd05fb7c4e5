from django.apps import AppConfig


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = "Accounts and organisations"

    def ready(self) -> None:
        import lifes.schema  # noqa: F401 - registers the token scheme with drf-spectacular
