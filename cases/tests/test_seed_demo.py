"""``manage.py seed_demo`` imports the bundled sample and can run again."""

from io import StringIO

import pytest
from django.core.management import call_command

from cases.models import Order, OrderLine

pytestmark = pytest.mark.django_db


def test_seed_demo_runs_twice():
    first, second = StringIO(), StringIO()

    call_command("seed_demo", stdout=first)
    call_command("seed_demo", stdout=second)

    assert "Imported 409 sample orders (409 new)." in first.getvalue()
    assert "Imported 409 sample orders (0 new)." in second.getvalue()
    assert Order.objects.count() == 409
    assert OrderLine.objects.count() == 811
