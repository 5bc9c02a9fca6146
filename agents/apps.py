from django.apps import AppConfig, apps
from django.db.models.signals import post_migrate


def _sync_supervisors_group(sender, **kwargs) -> None:
    # Django sends post_migrate once per app; permissions of every app exist
    # only after the last one, so the group is synced then.
    with_models = [
        config for config in apps.get_app_configs() if config.models_module is not None
    ]
    if sender is not with_models[-1]:
        return
    from agents.services import supervisors_group_sync

    supervisors_group_sync()


class AgentsConfig(AppConfig):
    name = "agents"
    verbose_name = "Agents and teams"

    def ready(self) -> None:
        post_migrate.connect(
            _sync_supervisors_group, dispatch_uid="agents.supervisors_group"
        )
