"""Lineage: the versions a version was prepared from, and the runs that read a version."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from modelward.entities import DatasetVersion

__all__ = ["LineageNode", "build_lineage"]

#: Deepest ancestry walked (a guard; versions cannot form cycles).
MAX_DEPTH = 64


@dataclass(frozen=True, slots=True)
class LineageNode:
    """A version and the versions it was prepared from.

    Attributes:
        version: The version.
        parents: Its parents' nodes, in recipe order.
        recipe: The recipe that made it from them (``None`` for ingested versions).
    """

    version: DatasetVersion
    parents: tuple[LineageNode, ...] = field(default_factory=tuple)
    recipe: dict[str, Any] | None = None

    def walk(self) -> list[DatasetVersion]:
        """Every version in the tree, this one first, each once (depth-first)."""
        seen: dict[str, DatasetVersion] = {}
        stack = [self]
        while stack:
            node = stack.pop()
            if node.version.id not in seen:
                seen[node.version.id] = node.version
                stack.extend(reversed(node.parents))
        return list(seen.values())

    def sources(self) -> list[DatasetVersion]:
        """The ingested versions at the roots of the tree (where the bytes came from)."""
        return [v for v in self.walk() if not v.parent_ids]

    def to_dict(self) -> dict[str, Any]:
        """Return a JSON-friendly tree."""
        return {
            "ref": self.version.ref,
            "id": self.version.id,
            "digest": self.version.digest,
            "source": dict(self.version.source),
            "recipe": self.recipe,
            "parents": [p.to_dict() for p in self.parents],
        }


def build_lineage(
    version: DatasetVersion, fetch: Callable[[Sequence[str]], list[DatasetVersion]]
) -> LineageNode:
    """Return ``version``'s lineage tree, fetching parents level by level with ``fetch``."""
    cache: dict[str, DatasetVersion] = {version.id: version}
    frontier = [version]
    for _ in range(MAX_DEPTH):
        wanted = [p for v in frontier for p in v.parent_ids if p not in cache]
        if not wanted:
            break
        fetched = fetch(list(dict.fromkeys(wanted)))
        cache.update({v.id: v for v in fetched})
        frontier = fetched

    def node(v: DatasetVersion, depth: int) -> LineageNode:
        parents = tuple(
            node(cache[p], depth + 1) for p in v.parent_ids if p in cache and depth < MAX_DEPTH
        )
        recipe = dict(v.recipe) if v.recipe is not None else None
        return LineageNode(v, parents, recipe)

    return node(version, 0)
