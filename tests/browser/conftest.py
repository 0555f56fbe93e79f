"""Browser test fixtures: one headless Debian Chromium per session, a page per test, the fake LLM wired in."""

from __future__ import annotations

import os
import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from playwright.sync_api import expect

CHROMIUM = Path("/usr/bin/chromium")
ARTIFACTS = Path(__file__).resolve().parents[2] / "test-artifacts"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Browser tests run last; without Chromium they skip, unless REQUIRE_SERVICES says CI needs them.

    Last, because the session's browser keeps an asyncio loop in the main thread until the session ends, and
    Django's ORM refuses to run beside one unless DJANGO_ALLOW_ASYNC_UNSAFE is set (see `browser`): no other
    test may run while it is set.
    """
    browser_tests = [item for item in items if "browser" in item.keywords]
    if not browser_tests:
        return
    items[:] = [item for item in items if "browser" not in item.keywords] + browser_tests
    if CHROMIUM.exists() or os.environ.get("REQUIRE_SERVICES"):
        return
    skip = pytest.mark.skip(reason=f"{CHROMIUM} is missing (apt-get install chromium)")
    for item in browser_tests:
        item.add_marker(skip)


@pytest.fixture(scope="session")
def browser() -> Iterator[object]:
    if not CHROMIUM.exists():
        pytest.fail(f"{CHROMIUM} is missing and REQUIRE_SERVICES is set: install Debian's chromium package")
    from playwright.sync_api import sync_playwright

    # Playwright's sync API keeps an asyncio loop in this thread; Django's ORM (pytest-django's database
    # fixtures, the live server's teardown) would otherwise refuse to run beside it. Browser tests run last
    # (see pytest_collection_modifyitems), so this never loosens the check for any other test.
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"
    with sync_playwright() as playwright:
        chromium = playwright.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield chromium
        chromium.close()
    if previous is None:
        os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
    else:
        os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous


@pytest.fixture
def site(live_server, settings) -> str:
    """The live server's URL, with cookies that work over plain http://localhost."""
    settings.SESSION_COOKIE_SECURE = False
    settings.CSRF_COOKIE_SECURE = False
    settings.RATELIMIT_ENABLE = False
    return live_server.url


class ConsoleErrors(list):
    """Console errors and uncaught exceptions seen by a page; the `page` fixture fails the test on any."""


@pytest.fixture
def page(browser, site) -> Iterator[object]:
    context = browser.new_context(viewport={"width": 1440, "height": 900}, accept_downloads=True)
    # Generous: CI shares two cores with the rest of the suite.
    context.set_default_timeout(15_000)
    expect.set_options(timeout=15_000)
    page = context.new_page()
    errors = ConsoleErrors()
    page.on("console", lambda message: errors.append(message.text) if message.type == "error" else None)
    page.on("pageerror", lambda error: errors.append(str(error)))
    page.console_errors = errors
    # Chromium logs every 4xx response as a console error; a test that provokes one on purpose (a 409
    # conflict) lists its status here, and only those are forgiven.
    page.expected_statuses = set()
    yield page
    context.close()
    unexpected = [text for text in errors if not _expected_failure(text, page.expected_statuses)]
    assert unexpected == [], f"console errors: {unexpected}"


def _expected_failure(text: str, statuses: set[int]) -> bool:
    match = re.fullmatch(r"Failed to load resource: the server responded with a status of (\d+) \(.*\)", text)
    return bool(match) and int(match.group(1)) in statuses


@pytest.fixture
def llm(settings, fake_llm):
    """Runs call the fake LLM server: Gemini only, one attempt, so failures show at once."""
    settings.GEMINI_BASE_URL = fake_llm.url
    settings.GEMINI_API_KEY = "fake-gemini-key"
    settings.GROQ_API_KEY = None
    settings.GROQ_BASE_URL = None
    settings.LLM_MAX_ATTEMPTS = 1
    settings.LLM_TIMEOUT_SECONDS = 20.0
    return fake_llm


@pytest.fixture
def artifacts() -> Path:
    ARTIFACTS.mkdir(exist_ok=True)
    return ARTIFACTS
