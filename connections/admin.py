from __future__ import annotations

from django import forms
from django.contrib import admin

from connections.models import HEADER_VALUE, NOT_A_HEADER_VALUE, Connection


class ConnectionAdminForm(forms.ModelForm):
    """The secret is written here and never shown again: an empty field keeps the stored one."""

    new_secret = forms.CharField(
        required=False,
        label="Secret",
        widget=forms.PasswordInput(render_value=False),
        help_text="API key or token; leave empty to keep the stored one.",
    )

    class Meta:
        model = Connection
        fields = ["owner", "name", "slug", "kind", "base_url", "header_name", "local"]

    def clean_new_secret(self) -> str:
        secret = self.cleaned_data.get("new_secret") or ""
        if not HEADER_VALUE.match(secret):
            raise forms.ValidationError(f"The secret {NOT_A_HEADER_VALUE}.")
        return secret

    def save(self, commit: bool = True) -> Connection:
        connection = super().save(commit=False)
        if self.cleaned_data.get("new_secret"):
            connection.set_secret(self.cleaned_data["new_secret"])
        if commit:
            connection.save()
        return connection


@admin.register(Connection)
class ConnectionAdmin(admin.ModelAdmin):
    # Operators add site connections here (no owner), e.g. `ollama` at http://ollama:11434/v1: trusted, so
    # their URLs are not checked like users' are.
    form = ConnectionAdminForm
    list_display = ["slug", "name", "kind", "owner", "base_url", "secret_hint", "last_used_at"]
    list_filter = ["kind"]
    search_fields = ["slug", "name", "owner__email"]
    list_select_related = ["owner"]
    readonly_fields = ["secret_hint", "created_at", "last_used_at"]

    @admin.display(description="Secret")
    def secret_hint(self, connection: Connection) -> str:
        if not connection.secret_encrypted:
            return "not set"
        return f"…{connection.secret_last4}" if connection.secret_last4 else "set"
