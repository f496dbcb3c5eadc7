from django.apps import AppConfig


class ProjectsConfig(AppConfig):
    name = "core.projects"
    label = "projects"
    verbose_name = "QI projects"
