"""The ``modelward`` command line: thin commands over the services (see docs/cli.md)."""
