"""Forms of the public refund pages and of the agents' refund decisions."""

from __future__ import annotations

from django import forms

from cases.models import OrderLine
from refunds.models import RefundRequest
from refunds.services import MAX_REASON_LENGTH
from supportdesk.forms import SingleLineField, SubmissionKeyForm
from supportdesk.money import InvalidAmount, parse_amount


class OrderLookupForm(forms.Form):
    order_number = SingleLineField(
        noun="order number",
        label="Order number",
        max_length=64,
        help_text="As in your confirmation email, for example #1001.",
        error_messages={"required": "Enter your order number, for example #1001."},
    )
    email = forms.EmailField(
        label="Email address",
        max_length=254,
        help_text="The address you used for the order.",
        error_messages={
            "required": "Enter the email address you used for the order.",
            "invalid": "Enter an email address in the form name@example.com.",
        },
    )


class OwnershipCodeForm(forms.Form):
    code = forms.CharField(
        label="Code from the email",
        max_length=12,
        help_text="Six digits, such as 042917.",
        widget=forms.TextInput(
            attrs={"inputmode": "numeric", "autocomplete": "one-time-code"}
        ),
        error_messages={"required": "Enter the code we emailed to you."},
    )


class RefundRequestForm(SubmissionKeyForm):
    """Quantities per order line, a reason and an optional description."""

    reason_code = forms.ChoiceField(
        label="Reason",
        choices=[("", "Choose a reason"), *list(RefundRequest.Reason.choices)],
        error_messages={"required": "Choose the reason for the refund."},
    )
    reason_text = forms.CharField(
        label="Tell us more",
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 4}),
        help_text=f"Up to {MAX_REASON_LENGTH:,} characters.",
        error_messages={
            "max_length": "Shorten the description to at most %(limit_value)s "
            "characters (it has %(show_value)s)."
        },
    )

    def __init__(self, *args, lines: list[OrderLine], **kwargs):
        super().__init__(*args, **kwargs)
        self.lines = lines
        for line in lines:
            # The messages name the item, because the eligibility box shows
            # them away from the table row. Django fills in %(limit_value)s,
            # so a % in the name is escaped.
            item = line.name.replace("%", "%%")
            self.fields[self.quantity_field(line)] = forms.IntegerField(
                label=f"Quantity of {line.name} to return",
                min_value=0,
                max_value=line.quantity,
                required=False,
                initial=0,
                error_messages={
                    "invalid": f"{item}: enter a whole number of items, such as 1.",
                    "min_value": f"{item}: the quantity cannot be negative.",
                    "max_value": f"{item}: you ordered %(limit_value)s; enter at "
                    "most %(limit_value)s.",
                },
            )

    @staticmethod
    def quantity_field(line: OrderLine) -> str:
        return f"qty-{line.pk}"

    def selection(self) -> dict[int, int]:
        """Return the chosen quantity per line id, from cleaned data."""
        return {
            line.pk: self.cleaned_data.get(self.quantity_field(line)) or 0
            for line in self.lines
            if (self.cleaned_data.get(self.quantity_field(line)) or 0) > 0
        }

    def line_rows(self):
        """Pair each line with its bound quantity field, for the template."""
        return [(line, self[self.quantity_field(line)]) for line in self.lines]


class CustomerMessageForm(SubmissionKeyForm):
    body = forms.CharField(
        label="Your message",
        max_length=5000,
        widget=forms.Textarea(attrs={"rows": 4}),
        error_messages={
            "required": "Write a message before sending.",
            "max_length": "Shorten the message to at most %(limit_value)s characters "
            "(it has %(show_value)s).",
        },
    )


class ApproveForm(forms.Form):
    amount = forms.CharField(
        label="Amount to refund",
        max_length=32,
        help_text="Leave as is to approve in full, or lower it to approve in part.",
        error_messages={"required": "Enter the amount to refund, such as 12.50."},
    )
    reason = forms.CharField(
        label="Message to the customer",
        required=False,
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
    )

    def __init__(self, *args, currency: str, **kwargs):
        super().__init__(*args, **kwargs)
        self.currency = currency

    def clean_amount(self) -> int:
        try:
            return parse_amount(self.cleaned_data["amount"], self.currency)
        except InvalidAmount as exc:
            raise forms.ValidationError(exc.message) from None


class ChangeAmountForm(ApproveForm):
    """A new amount for an undecided request, with the reason for it."""

    reason = forms.CharField(
        label="Reason for the change",
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Agents and supervisors see it in the request's history.",
        error_messages={"required": "Say why the amount changes."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = "New amount"
        self.fields["amount"].help_text = (
            "At most what the items and shipping are worth. You cannot approve "
            "it above your own limit afterwards."
        )


class EscalateForm(ApproveForm):
    """The amount an agent recommends to a supervisor, and why."""

    reason = forms.CharField(
        label="Note for the supervisor",
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text="Supervisors see it in their list. The customer does not.",
        error_messages={"required": "Tell the supervisor why you recommend this."},
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["amount"].label = "Amount you recommend"
        self.fields["amount"].help_text = "At most the requested amount."


class CancelForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the customer",
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 2}),
        error_messages={"required": "Give the customer a reason for the cancellation."},
    )


class RejectForm(forms.Form):
    reason = forms.CharField(
        label="Reason for the customer",
        max_length=MAX_REASON_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": "Give the customer a reason for the rejection."},
    )


class MarkRefundedForm(forms.Form):
    external_reference = forms.CharField(
        label="Shop refund reference", required=False, max_length=200
    )
