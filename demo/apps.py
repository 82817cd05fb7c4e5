from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo world (``seed_demo``) and the demo node's files. Imports from every app."""

    name = "demo"
    verbose_name = "Demo world"
