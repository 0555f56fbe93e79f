"""Every route in the URL conf, found by walking the resolver, minus the explicitly excluded prefixes."""

from __future__ import annotations

from dataclasses import dataclass

from django.urls import URLPattern, URLResolver, get_resolver

# Routes that are not Weft's user-owned resources, each with the reason it is outside the matrix.
EXCLUDED_PREFIXES = {
    "admin/": "Django admin: staff-only, guarded by Django's own permission system (tested in the apps)",
    "accounts/": "allauth's login, signup and password pages: public by design",
    "api-auth/": "DRF's browsable-API login and logout: public by design",
    "static/": "static files (WhiteNoise): public by design",
}

HTTP_METHODS = ("get", "post", "put", "patch", "delete")


@dataclass(frozen=True)
class Route:
    name: str
    route: str  # the pattern text, e.g. "api/workflows/<uuid:workflow_id>"
    pattern: URLPattern

    @property
    def converters(self) -> list[str]:
        return list(getattr(self.pattern.pattern, "converters", {}))

    @property
    def methods(self) -> list[str] | None:
        """The HTTP methods a class-based view implements (not OPTIONS, HEAD); None for a function view."""
        view_class = getattr(self.pattern.callback, "view_class", None) or getattr(
            self.pattern.callback, "cls", None
        )
        if view_class is None:
            return None
        return [method for method in HTTP_METHODS if hasattr(view_class, method)]


def _excluded(route: str) -> bool:
    return any(route.startswith(prefix) for prefix in EXCLUDED_PREFIXES)


def discover_routes() -> list[Route]:
    found: list[Route] = []

    def walk(patterns: list, prefix: str) -> None:
        for entry in patterns:
            route = prefix + str(entry.pattern)
            if _excluded(route):
                continue
            if isinstance(entry, URLResolver):
                walk(entry.url_patterns, route)
            else:
                found.append(Route(name=entry.name or f"<unnamed {route}>", route=route, pattern=entry))

    walk(get_resolver().url_patterns, "")
    return found
