"""The template gallery: ready-made workflows a user copies into their own list to start from.

Each template is a text-in, text-out workflow (an Input and an Output), so it runs from the run form, the
API and the Playground as it is. A template may come with a helper workflow it calls (Map over a list runs
one per item); copying creates the helper first and points the template at it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

Graph = dict[str, list[dict[str, Any]]]
# A graph builder receives the id of the helper workflow copied before it (None when it has none).
GraphBuilder = Callable[[str | None], Graph]

_STEP = 320  # horizontal distance between the columns of a template's layout


def _node(node_id: str, kind: str, column: int, row: int = 0, **data: Any) -> dict[str, Any]:
    return {"id": node_id, "type": kind, "position": {"x": column * _STEP, "y": 80 + row * 200}, "data": data}


def _edge(source: str, out: str, target: str, into: str) -> dict[str, Any]:
    return {
        "id": f"{source}.{out}-{target}.{into}",
        "source": source,
        "sourceHandle": out,
        "target": target,
        "targetHandle": into,
    }


def _text_input(column: int, name: str, label: str, description: str, **extra: Any) -> dict[str, Any]:
    return _node(
        f"input-{name}",
        "input",
        column,
        name=name,
        type="text",
        label=label,
        description=description,
        **extra,
    )


def _output(column: int, name: str, label: str, row: int = 0) -> dict[str, Any]:
    return _node(f"output-{name}", "output", column, row, name=name, label=label)


def _summarize_page(_: str | None) -> Graph:
    nodes = [
        _text_input(
            0, "url", "Page URL", "The address of the page to summarize.", default="https://example.com"
        ),
        _node("fetch", "http", 1, label="Fetch the page", method="GET", url="{{url}}"),
        _node(
            "ask",
            "prompt",
            2,
            label="Ask for a summary",
            template="Summarize this web page in at most five short bullet points.\n\n{{page}}",
        ),
        _node("write", "llm", 3, label="Summarize", temperature=0.2, maxOutputTokens=512),
        _output(4, "summary", "Summary"),
    ]
    edges = [
        _edge("input-url", "value", "fetch", "url"),
        _edge("fetch", "body", "ask", "page"),
        _edge("ask", "text", "write", "prompt"),
        _edge("write", "text", "output-summary", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


_LABEL_SCHEMA = {
    "type": "object",
    "properties": {"label": {"type": "string", "enum": ["question", "complaint"]}},
    "required": ["label"],
}


def _classify_and_route(_: str | None) -> Graph:
    nodes = [
        _text_input(0, "message", "Message", "A customer's message.", default="Where is my order #1234?"),
        _node(
            "classify",
            "llm",
            1,
            label="Classify",
            systemPrompt="Label the customer's message: question or complaint.",
            temperature=0,
            jsonSchema=_LABEL_SCHEMA,
        ),
        _node("label", "extract", 2, label="Label", path="$.label"),
        _node(
            "is-complaint",
            "condition",
            3,
            label="Is it a complaint?",
            rules=[{"operator": "equals", "value": "complaint"}],
        ),
        _node(
            "apologise",
            "prompt",
            4,
            -1,
            label="Complaint reply",
            template="Labelled {{label}}. Write a short apology that answers it:\n\n{{message}}",
        ),
        _node(
            "answer",
            "prompt",
            4,
            1,
            label="Question reply",
            template="Labelled {{label}}. Write a short, friendly answer to it:\n\n{{message}}",
        ),
        _node("either", "merge", 5, label="Either branch"),
        _node("reply", "llm", 6, label="Write the reply", temperature=0.3, maxOutputTokens=512),
        _output(7, "reply", "Reply"),
    ]
    edges = [
        _edge("input-message", "value", "classify", "prompt"),
        _edge("classify", "json", "label", "value"),
        _edge("label", "text", "is-complaint", "value"),
        _edge("is-complaint", "true", "apologise", "label"),
        _edge("is-complaint", "false", "answer", "label"),
        _edge("input-message", "value", "apologise", "message"),
        _edge("input-message", "value", "answer", "message"),
        _edge("apologise", "text", "either", "values"),
        _edge("answer", "text", "either", "values"),
        _edge("either", "value", "reply", "prompt"),
        _edge("reply", "text", "output-reply", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


_CONTACT_SCHEMA = {
    "type": "object",
    "properties": {
        "name": {"type": "string"},
        "email": {"type": "string"},
        "company": {"type": "string"},
    },
    "required": ["name", "email", "company"],
}


def _extract_json(_: str | None) -> Graph:
    nodes = [
        _text_input(
            0,
            "text",
            "Text",
            "Any text that mentions a person.",
            default="Hi, I'm Ada Lovelace from Analytical Engines Ltd, write to ada@example.com.",
        ),
        _node(
            "extract",
            "llm",
            1,
            label="Extract the contact",
            systemPrompt="Extract the contact named in the text. Use an empty string for what is missing.",
            temperature=0,
            jsonSchema=_CONTACT_SCHEMA,
        ),
        _output(2, "contact", "Contact"),
    ]
    edges = [
        _edge("input-text", "value", "extract", "prompt"),
        _edge("extract", "json", "output-contact", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


def _describe_image(_: str | None) -> Graph:
    nodes = [
        _node(
            "input-image",
            "input",
            0,
            name="image",
            type="image",
            label="Image",
            description="The picture to describe.",
        ),
        _node(
            "describe",
            "vision",
            1,
            label="Describe",
            prompt="Describe this image in two or three sentences for someone who cannot see it.",
            temperature=0.2,
        ),
        _output(2, "description", "Description"),
    ]
    edges = [
        _edge("input-image", "value", "describe", "image"),
        _edge("describe", "text", "output-description", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


def _translate_one_line(_: str | None) -> Graph:
    nodes = [
        _text_input(0, "line", "Line", "One line to translate.", required=True),
        _node(
            "ask",
            "prompt",
            1,
            label="Ask",
            template="Translate into French; answer with the translation only:\n\n{{line}}",
        ),
        _node("translate", "llm", 2, label="Translate", temperature=0, maxOutputTokens=256),
        _output(3, "french", "French"),
    ]
    edges = [
        _edge("input-line", "value", "ask", "line"),
        _edge("ask", "text", "translate", "prompt"),
        _edge("translate", "text", "output-french", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


def _map_over_list(helper_id: str | None) -> Graph:
    nodes = [
        _text_input(0, "lines", "Lines", "One item per line.", default="Good morning\nThank you"),
        # Version 1 is the helper as copied, so the map runs before anything is published.
        _node(
            "each",
            "map",
            1,
            label="Translate each line",
            workflowId=helper_id,
            version=1,
            itemInput="line",
            concurrency=4,
        ),
        _output(2, "translations", "Translations"),
    ]
    edges = [
        _edge("input-lines", "value", "each", "items"),
        _edge("each", "results", "output-translations", "value"),
    ]
    return {"nodes": nodes, "edges": edges}


@dataclass(frozen=True)
class Template:
    slug: str
    name: str
    description: str
    icon: str
    build: GraphBuilder
    # A workflow the template calls, copied first under its own name (Map runs it once per item).
    helper: Template | None = field(default=None)

    def summary(self) -> dict[str, Any]:
        """What the gallery shows of it (the graph itself is only built when copied)."""
        graph = self.build(None)
        return {
            "slug": self.slug,
            "name": self.name,
            "description": self.description,
            "icon": self.icon,
            "nodeKinds": sorted({node["type"] for node in graph["nodes"]}),
            "createsHelper": self.helper.name if self.helper else None,
        }


_TRANSLATE_ONE_LINE = Template(
    slug="translate-one-line",
    name="Translate one line",
    description="Translates one line into French (run by “Map over a list” once per line).",
    icon="✎",
    build=_translate_one_line,
)

TEMPLATES: tuple[Template, ...] = (
    Template(
        slug="summarize-a-page",
        name="Summarize a page",
        description="Fetches a web page with an HTTP Request and asks a model for a five-bullet summary.",
        icon="≡",
        build=_summarize_page,
    ),
    Template(
        slug="classify-and-route",
        name="Classify and route",
        description="A model labels a message as JSON; a Condition routes it to a complaint or a question "
        "reply; a Merge joins the branches.",
        icon="◇",
        build=_classify_and_route,
    ),
    Template(
        slug="extract-json",
        name="Extract JSON",
        description="A model with a JSON schema pulls a name, an email and a company out of free text.",
        icon="{}",
        build=_extract_json,
    ),
    Template(
        slug="describe-an-image",
        name="Describe an image",
        description="An image input goes to a Vision model that describes it for someone who cannot see it.",
        icon="◉",
        build=_describe_image,
    ),
    Template(
        slug="map-over-a-list",
        name="Map over a list",
        description="Runs a helper workflow once per line of a list, a few at once, and gathers the results.",
        icon="⇶",
        build=_map_over_list,
        helper=_TRANSLATE_ONE_LINE,
    ),
)

TEMPLATES_BY_SLUG = {template.slug: template for template in TEMPLATES}
