"""The model registry: registered models, versions, aliases, archive/delete, audit, lineage."""

from modelward.registry.service import RegistryService

__all__ = ["RegistryService"]
