"""Ports: the named, typed connection points of a node (React Flow's handles)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Port:
    """One input or output port. `required` and `multiple` only matter for inputs."""

    name: str
    type: str
    required: bool = False
    multiple: bool = False

    def as_input_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type, "required": self.required, "multiple": self.multiple}

    def as_output_dict(self) -> dict[str, Any]:
        return {"name": self.name, "type": self.type}


def types_compatible(source_type: str, target_type: str) -> bool:
    """Whether an output of `source_type` may feed an input of `target_type`.

    Port types are "text", "image" and "any", the wildcard carried by Debug: it connects to and from every
    other type.
    """
    return source_type == target_type or "any" in (source_type, target_type)
