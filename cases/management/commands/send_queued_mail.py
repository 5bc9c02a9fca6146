"""Send the customer emails that are due: first tries that failed, retries."""

from django.core.management.base import BaseCommand

from cases.mail.outbound import due_outbound_ids, outbound_deliver


class Command(BaseCommand):
    help = (
        "Send queued customer emails whose next attempt is due, such as replies "
        "whose first delivery failed. Run it every few minutes from cron."
    )

    def handle(self, *args, **options):
        due = due_outbound_ids()
        sent = sum(outbound_deliver(pk) for pk in due)
        self.stdout.write(f"Sent {sent} of {len(due)} due emails.")
