from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "permits"
    verbose_name = "Permits and nodes"

    def ready(self) -> None:
        from permits.receivers import on_request_approved, on_request_closed
        from requests_app.signals import request_approved, request_closed

        request_approved.connect(on_request_approved, dispatch_uid="permits.issue_on_approval")
        request_closed.connect(on_request_closed, dispatch_uid="permits.close_with_request")
