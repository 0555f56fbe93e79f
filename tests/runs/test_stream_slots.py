"""The count of each user's open event streams (runs.streamslots), in the cache: Redis or local memory."""

from __future__ import annotations

import pytest

from runs.streamslots import TooManyStreams, stream_slot_release, stream_slot_renew, stream_slot_take
from tests.waiting import wait_for

pytestmark = pytest.mark.django_db


def taken(user_id: int) -> str | None:
    try:
        return stream_slot_take(user_id=user_id)
    except TooManyStreams:
        return None


def test_each_user_has_their_own_count_and_a_slot_given_back_is_free_again(alice, bob, settings):
    settings.RUN_EVENTS_MAX_STREAMS_PER_USER = 3
    alices = [stream_slot_take(user_id=alice.pk) for _ in range(3)]

    with pytest.raises(TooManyStreams):
        stream_slot_take(user_id=alice.pk)
    bobs = [stream_slot_take(user_id=bob.pk) for _ in range(3)]
    stream_slot_release(user_id=alice.pk, slot=alices[0])

    assert len(set(alices + bobs)) == 6
    assert taken(alice.pk) is not None
    assert taken(alice.pk) is None


def test_a_slot_that_is_not_renewed_lapses_and_a_renewed_one_does_not(alice, bob, settings):
    settings.RUN_EVENTS_MAX_STREAMS_PER_USER = 1
    settings.RUN_EVENTS_HEARTBEAT_SECONDS = 0.2  # a lease of 0.6 s
    stream_slot_take(user_id=alice.pk)  # a stream whose process died: never renewed nor given back
    bobs = stream_slot_take(user_id=bob.pk)

    assert taken(alice.pk) is None
    wait_for(lambda: taken(alice.pk), timeout=5)
    stream_slot_renew(user_id=bob.pk, slot=bobs)
    assert taken(bob.pk) is None
