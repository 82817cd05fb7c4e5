from django.apps import AppConfig


class RequestsAppConfig(AppConfig):
    name = "requests_app"
    verbose_name = "Access requests and review"

    def ready(self) -> None:
        from consent.signals import consent_changed, dataset_conditions_changed

        consent_changed.connect(_rerun_checks, dispatch_uid="requests_rerun_on_consent")
        dataset_conditions_changed.connect(
            _rerun_checks, dispatch_uid="requests_rerun_on_conditions"
        )


def _rerun_checks(sender, *, dataset_id: int, **kwargs) -> None:
    """Consent or conditions changed after commit: re-check the requests still under review."""
    from requests_app.tasks import rerun_checks_for_dataset_task

    rerun_checks_for_dataset_task.delay(dataset_id)
