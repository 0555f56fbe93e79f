from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin
from django.db import models

from accounts.forms import ThrottledAdminAuthenticationForm
from accounts.models import ApiToken, User

# The admin's login counts failed passwords with allauth's limits, like every other login form.
admin.site.login_form = ThrottledAdminAuthenticationForm


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    ordering = ["email"]
    list_display = ["email", "first_name", "last_name", "is_staff", "is_active", "created_at"]
    search_fields = ["email", "first_name", "last_name"]
    readonly_fields = ["created_at", "updated_at", "last_login"]
    fieldsets = [
        (None, {"fields": ["email", "password"]}),
        ("Profile", {"fields": ["first_name", "last_name", "avatar_url"]}),
        ("Permissions", {"fields": ["is_active", "is_staff", "is_superuser", "groups", "user_permissions"]}),
        ("Dates", {"fields": ["last_login", "created_at", "updated_at"]}),
    ]
    add_fieldsets = [(None, {"classes": ["wide"], "fields": ["email", "password1", "password2"]})]
    # Avatars are served over HTTPS; saying so also settles Django 6's change of the default scheme.
    formfield_overrides = {models.URLField: {"form_class": forms.URLField, "assume_scheme": "https"}}


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    # The digest never leaves the database: it is not shown, and tokens are made with create_api_token.
    list_display = ["name", "prefix", "owner", "created_at", "last_used_at"]
    search_fields = ["name", "owner__email", "prefix"]
    list_select_related = ["owner"]
    fields = ["owner", "name", "prefix", "created_at", "last_used_at"]
    readonly_fields = fields

    def has_add_permission(self, request) -> bool:
        return False
