"""Deployments: named endpoints that serve registered model versions (``client.deployments``)."""

from modelward.deployments.service import DeploymentService

__all__ = ["DeploymentService"]
