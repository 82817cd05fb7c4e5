from django.apps import AppConfig


class ConsentConfig(AppConfig):
    name = "consent"
    verbose_name = "Consent and checks"

    def ready(self) -> None:
        from django.core import checks

        from consent.policies import check_policy_maps

        checks.register(check_policy_maps)
