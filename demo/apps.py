from django.apps import AppConfig


class DemoConfig(AppConfig):
    """The demo data (``manage.py seed_demo``): no models, no URLs. It sits above every other
    app and nothing imports it."""

    name = "demo"
    verbose_name = "Demo data"
