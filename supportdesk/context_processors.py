from django.conf import settings


def shop(request):
    """Add the shop's name to every template."""
    return {"shop_name": settings.SHOP_NAME}
