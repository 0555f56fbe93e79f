"""The orjson renderer writes what DRF's JSONRenderer writes, and the API answers with it."""

from __future__ import annotations

import datetime
import decimal
import uuid

from django.utils.translation import gettext_lazy
from rest_framework.renderers import JSONRenderer
from rest_framework.utils.serializer_helpers import ReturnDict, ReturnList

from core.renderers import OrjsonRenderer

PAYLOAD = {
    "id": uuid.UUID("12345678-1234-5678-1234-567812345678"),
    "when": datetime.datetime(2026, 11, 29, 14, 30, 5, 123456, tzinfo=datetime.UTC),
    "day": datetime.date(2026, 11, 29),
    "at": datetime.time(14, 30),
    "took": datetime.timedelta(seconds=90),
    "price": decimal.Decimal("1.50"),
    "label": gettext_lazy("Text"),
    "unicode": 'Grüße, 東京 \u2028 \u2029 "quoted" \\ \n',
    "numbers": [0, -1, 2**63 - 1, 1.5, True, False, None],
    "nested": ReturnDict({"list": ReturnList([{"a": 1}], serializer=None), 7: "int key"}, serializer=None),
    "empty": {},
}


def test_it_writes_the_same_bytes_as_drfs_renderer():
    assert OrjsonRenderer().render(PAYLOAD) == JSONRenderer().render(PAYLOAD)


def test_integers_beyond_64_bits_and_indented_output_fall_back_to_drf():
    huge = {"n": 2**70}
    assert OrjsonRenderer().render(huge) == JSONRenderer().render(huge) == b'{"n":1180591620717411303424}'
    indented = OrjsonRenderer().render(PAYLOAD, "application/json; indent=2")
    assert indented == JSONRenderer().render(PAYLOAD, "application/json; indent=2")
    assert indented.startswith(b'{\n  "id"')


def test_nothing_renders_as_an_empty_body():
    assert OrjsonRenderer().render(None) == b""


def test_the_api_answers_through_it(alice_client):
    response = alice_client.get("/api/workflows")
    assert response.status_code == 200
    assert isinstance(response.accepted_renderer, OrjsonRenderer)
    assert response.json()["results"] == []
