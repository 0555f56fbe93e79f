"""Content keys from the graph alone, and the plan they give: which nodes run, reuse or stay out."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from engine.keys import content_keys
from engine.reuse import MemoryResultStore, ReuseMode, StoredResult, plan_run
from engine.validation import Limits, analyse_graph
from tests.graphs import edge, graph, node


def parsed(g: dict[str, Any]):
    issues, result = analyse_graph(g, limits=Limits())
    assert issues == []
    return result


def keys_of(g: dict[str, Any], **options: Any) -> dict[str, str | None]:
    return {node_id: k.key for node_id, k in content_keys(parsed(g), **options).items()}


def template(left: str = "L", right: str = "R", *, swap: bool = False) -> dict[str, Any]:
    """Two texts into a Prompt's two placeholders, into an LLM."""
    edges = [edge("l", "p", None, "x"), edge("r", "p", None, "y")]
    return graph(
        [
            node("l", "text", text=left),
            node("r", "text", text=right),
            node("p", "prompt", template="{{x}} and {{y}}"),
            node("m", "llm", temperature=0),
        ],
        [*(reversed(edges) if swap else edges), edge("p", "m", None, "prompt")],
    )


def test_keys_are_stable_and_ignore_label_pin_defaults_and_edge_listing_order():
    plain = keys_of(template())
    g = template(swap=True)
    g["nodes"][3]["data"].update(label="Ask", pin=True, maxOutputTokens=1024)  # 1024 is the default

    assert keys_of(template()) == plain
    assert keys_of(g) == plain
    assert all(key and len(key) == 64 for key in plain.values())


def test_an_upstream_change_changes_every_key_downstream_and_nothing_else():
    before = keys_of(template())
    after = keys_of(template(right="R2"))

    assert [n for n in before if before[n] != after[n]] == ["r", "p", "m"]


def test_which_port_an_edge_feeds_is_part_of_the_key():
    g = template()
    g["edges"][0]["targetHandle"], g["edges"][1]["targetHandle"] = "y", "x"

    assert keys_of(g)["p"] != keys_of(template())["p"]


class Digests:
    def __init__(self, by_upload: Mapping[str, str]) -> None:
        self.by_upload = by_upload

    def digest(self, ref: Mapping[str, Any]) -> str | None:
        return self.by_upload.get(ref.get("uploadId"))


def vision(**image: Any) -> dict[str, Any]:
    return graph(
        [node("i", "image", **image), node("v", "vision", temperature=0)], [edge("i", "v", None, "image")]
    )


def test_an_image_feeds_its_bytes_digest_not_its_upload_id():
    digests = Digests({"u1": "same", "u2": "same", "u3": "other"})

    first = keys_of(vision(uploadId="u1"), digests=digests)
    copy = keys_of(vision(uploadId="u2"), digests=digests)
    other = keys_of(vision(uploadId="u3"), digests=digests)

    assert first["v"] == copy["v"] != other["v"]
    assert first["i"] != copy["i"]  # the Image node's own output names its upload


def test_an_image_whose_bytes_cannot_be_known_leaves_what_it_feeds_without_a_key():
    by_url = keys_of(vision(url="https://example.com/a.png"), digests=Digests({}))
    without_resolver = keys_of(vision(uploadId="u1"))

    assert by_url["i"] is not None
    assert by_url["v"] is None
    assert without_resolver["v"] is None


# Plans --------------------------------------------------------------------------------------


def llm_chain(*temperatures: float) -> dict[str, Any]:
    nodes = [node("a", "text", text="hi")]
    edges = []
    for i, temperature in enumerate(temperatures, start=1):
        nodes.append(node(f"l{i}", "llm", temperature=temperature))
        edges.append(edge(nodes[-2]["id"], f"l{i}", None, "prompt"))
    return graph(nodes, edges)


def plan(
    g: dict[str, Any], *, stored: set[str] | None = None, trusted: set[str] = frozenset(), **options: Any
):
    tree = parsed(g)
    keys = content_keys(tree)
    found = {
        keys[n].key: StoredResult({"text": f"old {n}"}, "run-1", i, trusted=n in trusted)
        for i, n in enumerate(keys)
        if stored is None or n in stored
    }
    options.setdefault("targets", None)
    options.setdefault("mode", ReuseMode.auto)
    result = plan_run(tree, keys, store=MemoryResultStore(found), **options)
    return {n: p.fate.value for n, p in result.nodes.items()}, result.llm_calls(tree).total


def test_everything_with_a_stored_result_is_reused_when_the_kinds_allow_it():
    assert plan(llm_chain(0, 0)) == ({"a": "reuse", "l1": "reuse", "l2": "reuse"}, 0)


def test_a_node_above_temperature_zero_runs_and_makes_its_descendants_run():
    fates, calls = plan(llm_chain(0, 0.7, 0, 0))

    assert fates == {"a": "reuse", "l1": "reuse", "l2": "run", "l3": "run", "l4": "run"}
    assert calls == 3


def test_reuse_none_runs_everything_and_reuse_all_reuses_everything():
    assert plan(llm_chain(0.7), mode=ReuseMode.none) == ({"a": "run", "l1": "run"}, 1)
    assert plan(llm_chain(0.7), mode=ReuseMode.all) == ({"a": "reuse", "l1": "reuse"}, 0)


def test_a_trusted_result_is_reused_whatever_the_kind():
    assert plan(llm_chain(0.7, 0.7), stored={"a", "l1"}, trusted={"l1"}) == (
        {"a": "reuse", "l1": "reuse", "l2": "run"},
        1,
    )


def test_targets_run_and_pull_in_only_what_has_no_result():
    fates, calls = plan(llm_chain(0, 0, 0), targets=["l3"], stored={"a"})

    assert fates == {"a": "reuse", "l1": "run", "l2": "run", "l3": "run"}
    assert calls == 3


def test_a_target_above_temperature_zero_makes_targets_below_it_see_its_new_output():
    fates, _ = plan(llm_chain(0.7, 0, 0), targets=["l1", "l3"])

    assert fates == {"a": "reuse", "l1": "run", "l2": "run", "l3": "run"}


def test_nodes_finished_earlier_in_the_same_run_are_done():
    fates, _ = plan(llm_chain(0.7, 0.7), stored=set(), finished={"a", "l1"})

    assert fates == {"a": "done", "l1": "done", "l2": "run"}


def test_nodes_outside_a_scoped_run_are_skipped():
    fates, _ = plan(llm_chain(0, 0), targets=["l1"], stored=set())

    assert fates == {"a": "run", "l1": "run", "l2": "skip"}
