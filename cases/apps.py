from django.apps import AppConfig
from django.db.models.signals import post_save


def _refund_saved(sender, instance, **kwargs) -> None:
    # A refund decision changes the "refunds awaiting a decision" counts of
    # the case's team and assignee, although the case itself does not change.
    if instance.case_id is not None:
        from cases import counts
        from cases.models import SupportCase

        team_id, assignee_id = (
            SupportCase.objects.filter(pk=instance.case_id)
            .values_list("team_id", "assignee_id")
            .first()
        ) or (None, None)
        counts.invalidate(team_ids=[team_id], agent_ids=[assignee_id])


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = "Cases, customers and orders"

    def ready(self) -> None:
        post_save.connect(
            _refund_saved,
            sender="refunds.RefundRequest",
            dispatch_uid="cases.refund_saved_counts",
        )
