"""A URL conf with a page that fails, to see the site's 500 handling."""

from django.urls import path

from workflowsite.urls import handler404, handler500  # noqa: F401 -- the handlers under test


def boom(request):
    raise RuntimeError("a page failed")


urlpatterns = [path("boom", boom)]
