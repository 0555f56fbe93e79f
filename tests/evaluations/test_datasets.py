"""Datasets: rows as JSON, CSV or JSONL, bad rows named by row and field, the row limit, and ownership."""

from __future__ import annotations

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from evaluations.models import DatasetRow

pytestmark = pytest.mark.django_db


def create(client, name="Topics") -> str:
    response = client.post("/api/datasets", {"name": name}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["id"]


def upload(client, dataset_id: str, name: str, text: str):
    file = SimpleUploadedFile(name, text.encode(), content_type="text/plain")
    return client.post(f"/api/datasets/{dataset_id}/rows", {"file": file}, format="multipart")


def test_json_rows_are_added_in_order_and_listed(alice_client):
    dataset_id = create(alice_client)
    rows = [{"inputs": {"topic": "cats"}, "expected": {"answer": "meow"}}, {"inputs": {"topic": "dogs"}}]

    added = alice_client.post(f"/api/datasets/{dataset_id}/rows", {"rows": rows}, format="json")
    listed = alice_client.get(f"/api/datasets/{dataset_id}/rows")

    assert added.status_code == 200
    assert added.json()["rowCount"] == 2
    assert listed.json()["results"] == [
        {"index": 0, "inputs": {"topic": "cats"}, "expected": {"answer": "meow"}},
        {"index": 1, "inputs": {"topic": "dogs"}, "expected": {}},
    ]


def test_a_csv_file_maps_inputs_and_expected_columns_and_leaves_empty_cells_out(alice_client):
    dataset_id = create(alice_client)

    response = upload(
        alice_client,
        dataset_id,
        "rows.csv",
        "inputs.topic,inputs.style,expected.answer\ncats,,meow\ndogs,loud,woof\n",
    )

    assert response.status_code == 200, response.content
    assert list(DatasetRow.objects.order_by("index").values_list("inputs", "expected")) == [
        ({"topic": "cats"}, {"answer": "meow"}),
        ({"topic": "dogs", "style": "loud"}, {"answer": "woof"}),
    ]


def test_a_jsonl_file_adds_one_row_a_line_after_the_existing_rows(alice_client):
    dataset_id = create(alice_client)
    alice_client.post(f"/api/datasets/{dataset_id}/rows", {"rows": [{"inputs": {"n": 1}}]}, format="json")

    response = upload(
        alice_client,
        dataset_id,
        "rows.jsonl",
        '{"inputs": {"n": 2}, "expected": {"double": 4}}\n\n{"inputs": {"n": 3}}\n',
    )

    assert response.json()["rowCount"] == 3
    assert list(DatasetRow.objects.order_by("index").values_list("index", "inputs")) == [
        (0, {"n": 1}),
        (1, {"n": 2}),
        (2, {"n": 3}),
    ]


@pytest.mark.parametrize(
    ("name", "text", "path", "message"),
    [
        ("rows.jsonl", '{"inputs": {}}\n{"inputs": 3}\n', "rows[1].inputs", "line 2: must be an object"),
        ("rows.jsonl", '{"inputs": {}}\nnot json\n', "rows[1]", "line 2: not JSON"),
        ("rows.jsonl", '{"expected": {}}\n', "rows[0].inputs", "line 1: required"),
        ("rows.jsonl", '{"inputs": {}, "extra": 1}\n', "rows[0].extra", "line 1: unknown field"),
        ("rows.csv", "inputs.topic,answer\ncats,meow\n", "file", "column 2 ('answer')"),
        ("rows.csv", "inputs.topic\ncats,dogs\n", "rows[0]", "line 2: 2 cells for 1 columns"),
    ],
)
def test_a_bad_row_is_a_400_naming_the_row_and_field_and_adds_nothing(
    alice_client, name, text, path, message
):
    dataset_id = create(alice_client)

    response = upload(alice_client, dataset_id, name, text)

    assert response.status_code == 400
    error = response.json()["errors"][0]
    assert error["path"] == path
    assert error["message"].startswith(message)
    assert DatasetRow.objects.count() == 0


def test_bad_json_rows_name_the_row_and_field(alice_client):
    dataset_id = create(alice_client)

    response = alice_client.post(
        f"/api/datasets/{dataset_id}/rows",
        {"rows": [{"inputs": {}}, {"inputs": {}, "expected": "meow"}]},
        format="json",
    )

    assert response.status_code == 400
    assert response.json()["errors"] == [
        {"path": "rows[1].expected", "message": "must be an object of named values"}
    ]


def test_rows_past_dataset_max_rows_are_refused_all_together(alice_client, settings):
    settings.DATASET_MAX_ROWS = 3
    dataset_id = create(alice_client)
    alice_client.post(f"/api/datasets/{dataset_id}/rows", {"rows": [{"inputs": {}}] * 2}, format="json")

    response = alice_client.post(
        f"/api/datasets/{dataset_id}/rows", {"rows": [{"inputs": {}}] * 2}, format="json"
    )

    assert response.status_code == 400
    assert response.json()["errors"][0]["path"] == "rows"
    assert "DATASET_MAX_ROWS" in response.json()["errors"][0]["message"]
    assert DatasetRow.objects.count() == 2


def test_another_users_dataset_is_a_404_and_absent_from_their_list(alice_client, bob_client):
    dataset_id = create(alice_client)

    assert bob_client.get(f"/api/datasets/{dataset_id}").status_code == 404
    assert bob_client.get(f"/api/datasets/{dataset_id}/rows").status_code == 404
    assert (
        bob_client.post(
            f"/api/datasets/{dataset_id}/rows", {"rows": [{"inputs": {}}]}, format="json"
        ).status_code
        == 404
    )
    assert bob_client.delete(f"/api/datasets/{dataset_id}").status_code == 404
    assert bob_client.get("/api/datasets").json()["count"] == 0
    assert alice_client.get(f"/api/datasets/{dataset_id}").status_code == 200


def test_deleting_a_dataset_deletes_its_rows(alice_client):
    dataset_id = create(alice_client)
    alice_client.post(f"/api/datasets/{dataset_id}/rows", {"rows": [{"inputs": {}}]}, format="json")

    assert alice_client.delete(f"/api/datasets/{dataset_id}").status_code == 204
    assert alice_client.get(f"/api/datasets/{dataset_id}").status_code == 404
    assert DatasetRow.objects.count() == 0


def test_the_lists_are_paginated_in_a_constant_number_of_queries(alice_client, django_assert_max_num_queries):
    for i in range(5):
        dataset_id = create(alice_client, name=f"set {i}")
    alice_client.post(
        f"/api/datasets/{dataset_id}/rows", {"rows": [{"inputs": {"i": i}} for i in range(30)]}, format="json"
    )

    with django_assert_max_num_queries(6):
        datasets = alice_client.get("/api/datasets?limit=2")
    with django_assert_max_num_queries(7):
        rows = alice_client.get(f"/api/datasets/{dataset_id}/rows?page=2&limit=10")

    assert datasets.json()["count"] == 5
    assert [d["name"] for d in datasets.json()["results"]] == ["set 4", "set 3"]
    assert [r["index"] for r in rows.json()["results"]] == list(range(10, 20))
