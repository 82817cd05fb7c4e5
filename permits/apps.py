from django.apps import AppConfig


class PermitsConfig(AppConfig):
    name = "permits"
    verbose_name = "Permits and nodes"

    def ready(self) -> None:
        # The request page shows the request's permits (``{% request_permits %}``): read them
        # with the request, in the app that knows them (requests_app may not import permits).
        from permits.selectors import request_page_prefetches
        from requests_app.selectors import PAGE_PREFETCHES

        if request_page_prefetches not in PAGE_PREFETCHES:
            PAGE_PREFETCHES.append(request_page_prefetches)
