"""The run-start budgets: exact under concurrency, windows that end, keys that expire, and a switch."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from django.core.cache import caches
from django_redis.cache import RedisCache

from runs.ratelimit import RunRateLimited, run_rate_limit_count, webhook_rate_limit_count


def _allowed(count: Callable[[], None]) -> bool:
    try:
        count()
    except RunRateLimited:
        return False
    return True


def test_concurrent_requests_get_exactly_the_budget(settings):
    settings.EXECUTE_RATE_LIMIT = "25/h"

    with ThreadPoolExecutor(max_workers=8) as pool:
        answers = list(pool.map(lambda _: _allowed(partial(run_rate_limit_count, owner_id=7)), range(60)))

    assert answers.count(True) == 25


def test_each_user_and_each_webhook_has_a_budget_of_its_own(settings):
    settings.EXECUTE_RATE_LIMIT = "2/h"
    settings.WEBHOOK_RATE_LIMIT = "1/h"

    users = [_allowed(partial(run_rate_limit_count, owner_id=owner)) for owner in (1, 1, 1, 2)]
    hooks = [_allowed(partial(webhook_rate_limit_count, webhook_id=hook)) for hook in ("a", "a", "b")]

    assert (users, hooks) == ([True, True, False, True], [True, False, True])


def test_the_refusal_says_when_the_window_ends(settings):
    settings.EXECUTE_RATE_LIMIT = "1/30s"
    run_rate_limit_count(owner_id=3)

    with pytest.raises(RunRateLimited) as refused:
        run_rate_limit_count(owner_id=3)

    assert 1 <= refused.value.retry_after <= 30
    assert "1/30s run requests" in refused.value.message


def test_a_disabled_rate_limit_counts_nothing(settings):
    settings.EXECUTE_RATE_LIMIT = "1/h"
    settings.RATELIMIT_ENABLE = False

    assert all(_allowed(partial(run_rate_limit_count, owner_id=4)) for _ in range(3))


@pytest.mark.services
def test_on_redis_a_windows_key_expires_after_its_window(settings):
    cache = caches["default"]
    assert isinstance(cache, RedisCache)
    settings.EXECUTE_RATE_LIMIT = "5/m"
    client = cache.client.get_client(write=True)
    before = set(client.keys(cache.make_key("rl:*")))

    run_rate_limit_count(owner_id=5)
    run_rate_limit_count(owner_id=5)

    (key,) = set(client.keys(cache.make_key("rl:*"))) - before
    assert int(client.get(key)) == 2
    assert 0 < client.pttl(key) <= (60 + 5) * 1000
