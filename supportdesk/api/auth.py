"""JWT endpoints: obtain, refresh (rotating, single use) and verify.

Tokens are rejected for users who are deleted, inactive, without an API role
(see agents.roles), or whose password changed after the token was issued.
For access tokens, simplejwt 5.5 checks deletion and activity itself, and the
password with CHECK_REVOKE_TOKEN, and the HasRole permission checks the role.
Its refresh serializer checks no password, returns a server error for a
deleted user, and lets two concurrent requests rotate one refresh token
twice, so refresh is redone here.
"""

from __future__ import annotations

from django.contrib.auth import get_user_model
from django.db import transaction
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework_simplejwt import views as jwt_views
from rest_framework_simplejwt.exceptions import AuthenticationFailed, InvalidToken
from rest_framework_simplejwt.serializers import (
    TokenObtainPairSerializer,
    TokenRefreshSerializer,
    TokenVerifySerializer,
)
from rest_framework_simplejwt.settings import api_settings
from rest_framework_simplejwt.token_blacklist.models import (
    BlacklistedToken,
    OutstandingToken,
)
from rest_framework_simplejwt.tokens import RefreshToken, Token, UntypedToken
from rest_framework_simplejwt.utils import get_md5_hash_password

from agents.roles import role_of
from supportdesk.api.throttles import IPThrottle, TokenIPThrottle


def user_may_use_api(user) -> bool:
    """Return True for an active user with a role: simplejwt's user rule."""
    return role_of(user) is not None


def token_user(token: Token):
    """Return the user that ``token`` was issued to, if it may still use it.

    Raises AuthenticationFailed for a deleted, inactive or role-less user, or
    one whose password changed after the token was issued.
    """
    user_id = token.get(api_settings.USER_ID_CLAIM)
    user = (
        get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user_id
        else None
    )
    if user is None or not user_may_use_api(user):
        raise AuthenticationFailed(
            "No active account with API access was found for this token.",
            "no_active_account",
        )
    if token.get(api_settings.REVOKE_TOKEN_CLAIM) != get_md5_hash_password(
        user.password
    ):
        raise AuthenticationFailed(
            "The password changed after this token was issued. Log in again.",
            "password_changed",
        )
    return user


class RotatingRefreshSerializer(TokenRefreshSerializer):
    """Refresh that uses each refresh token once, even under concurrency.

    The outstanding token's row is locked while it is checked and
    blacklisted, so of two requests with one token, the second waits and
    then finds it blacklisted.
    """

    def validate(self, attrs):
        with transaction.atomic():
            refresh = RefreshToken(attrs["refresh"])
            outstanding = (
                OutstandingToken.objects.select_for_update()
                .filter(jti=refresh[api_settings.JTI_CLAIM])
                .first()
            )
            if (
                outstanding is None
                or BlacklistedToken.objects.filter(token=outstanding).exists()
            ):
                raise InvalidToken("This refresh token was already used or revoked.")
            token_user(refresh)
            return super().validate(attrs)


class CheckedVerifySerializer(TokenVerifySerializer):
    """Verify that also rejects tokens of users who may no longer use them."""

    def validate(self, attrs):
        try:
            super().validate(attrs)
        except serializers.ValidationError:
            # simplejwt returns 400 for a blacklisted token, but it is as
            # invalid as an expired one, which gets 401.
            raise InvalidToken("This token was already used or revoked.") from None
        token_user(UntypedToken(attrs["token"]))
        return {}


TokenPair = inline_serializer(
    "TokenPair",
    fields={
        "access": serializers.CharField(),
        "refresh": serializers.CharField(),
    },
)


class TokenObtainView(jwt_views.TokenObtainPairView):
    serializer_class = TokenObtainPairSerializer
    throttle_classes = [TokenIPThrottle, IPThrottle]

    @extend_schema(
        summary="Obtain an access and a refresh token",
        request=inline_serializer(
            "TokenRequest",
            fields={
                "username": serializers.CharField(),
                "password": serializers.CharField(),
            },
        ),
        responses={200: TokenPair},
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenRefreshView(jwt_views.TokenRefreshView):
    serializer_class = RotatingRefreshSerializer
    throttle_classes = [TokenIPThrottle, IPThrottle]

    @extend_schema(
        summary="Exchange a refresh token for a new pair",
        description="The refresh token sent is blacklisted: it works once.",
        request=inline_serializer(
            "RefreshRequest", fields={"refresh": serializers.CharField()}
        ),
        responses={200: TokenPair},
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)


class TokenVerifyView(jwt_views.TokenVerifyView):
    serializer_class = CheckedVerifySerializer
    throttle_classes = [TokenIPThrottle, IPThrottle]

    @extend_schema(
        summary="Check that a token is valid",
        request=inline_serializer(
            "VerifyRequest", fields={"token": serializers.CharField()}
        ),
        responses={200: inline_serializer("VerifyResponse", fields={})},
        tags=["auth"],
    )
    def post(self, request, *args, **kwargs):
        return super().post(request, *args, **kwargs)
