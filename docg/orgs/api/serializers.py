from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from rest_framework import serializers
from rest_framework.exceptions import AuthenticationFailed
from rest_framework_simplejwt import serializers as jwt_serializers
from rest_framework_simplejwt.settings import api_settings

from docg.common.api.serializers import StrictInput
from docg.orgs.choices import Language
from docg.orgs.models import Organization, User


class UserOutput(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name"]


class OrganizationBrief(serializers.ModelSerializer):
    class Meta:
        model = Organization
        fields = ["id", "name"]


class RegisterInput(StrictInput):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(write_only=True, min_length=8, max_length=128, trim_whitespace=False)
    name = serializers.CharField(max_length=200)
    organization_name = serializers.CharField(max_length=200)

    def validate_email(self, value: str) -> str:
        if User.objects.filter(email__iexact=value).exists():
            raise serializers.ValidationError("An account with this email already exists.")
        return value.lower()

    def validate(self, attrs):
        candidate = User(email=attrs["email"], name=attrs["name"])
        try:
            validate_password(attrs["password"], candidate)
        except DjangoValidationError as exc:
            raise serializers.ValidationError({"password": list(exc.messages)})
        return attrs


class RegisterOutput(serializers.Serializer):
    user = UserOutput()
    organization = OrganizationBrief()


class OrganizationOutput(serializers.ModelSerializer):
    role = serializers.CharField(read_only=True)

    class Meta:
        model = Organization
        fields = ["id", "name", "language", "plan", "role", "created_at"]


class OrganizationCreateInput(StrictInput):
    name = serializers.CharField(max_length=200)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class OrganizationUpdateInput(StrictInput):
    name = serializers.CharField(max_length=200, required=False)
    language = serializers.ChoiceField(choices=Language.choices, required=False)


class TokenObtainSerializer(jwt_serializers.TokenObtainPairSerializer):
    """`{email, password}` → `{access, refresh}`."""


class TokenRefreshSerializer(jwt_serializers.TokenRefreshSerializer):
    """Refresh with rotation; a deleted or inactive user gets 401, never a 500."""

    def validate(self, attrs):
        refresh = self.token_class(attrs["refresh"])
        user_id = refresh.payload.get(api_settings.USER_ID_CLAIM)
        user = get_user_model().objects.filter(**{api_settings.USER_ID_FIELD: user_id}).first()
        if user is None or not api_settings.USER_AUTHENTICATION_RULE(user):
            raise AuthenticationFailed("No active account found for the given token.", "no_active_account")
        return super().validate(attrs)
