from django.apps import AppConfig


class KooperationsplanConfig(AppConfig):
    name = "kooperationsplan"
    verbose_name = "Kooperationsplan"
