from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Access requests and review"

    def ready(self) -> None:
        from django.db.models.signals import post_migrate

        from consent.signals import consent_changed, dataset_conditions_changed

        post_migrate.connect(_default_form, sender=self, dispatch_uid="requests_default_form")

        consent_changed.connect(_rerun_checks, dispatch_uid="requests_rerun_on_consent")
        dataset_conditions_changed.connect(
            _rerun_checks, dispatch_uid="requests_rerun_on_conditions"
        )


def _rerun_checks(sender, *, dataset_id: int, **kwargs) -> None:
    """Consent or conditions changed (the consent app's outbox effect sends the signal): queue a
    re-check of each request still under review, durably."""
    from requests_app.services import checks_rerun_for_dataset

    checks_rerun_for_dataset(dataset_id=dataset_id)


def _default_form(sender, *, using: str = "default", **kwargs) -> None:
    """The default application form exists after every migrate (and flush): requests answer it."""
    from django.db import connections

    from requests_app.five_safes import ensure_default_template
    from requests_app.models import FormQuestion, FormSection, FormTemplate

    if FormTemplate._meta.db_table not in connections[using].introspection.table_names():
        return  # migrated back to before the templates
    ensure_default_template(FormTemplate, FormSection, FormQuestion)
