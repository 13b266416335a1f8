"""The serving app's endpoints, one module per protocol."""
