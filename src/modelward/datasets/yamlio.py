"""Reading the YAML documents users write (expectations, recipes), with readable errors."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from modelward.errors import InvalidInput, NotFound

__all__ = ["load_yaml"]


def load_yaml(path_or_text: str | Path, what: str) -> Any:
    """Load a YAML file, or YAML text when ``path_or_text`` is a string with a newline.

    Args:
        path_or_text: A file path, or the YAML itself.
        what: What the document is (``recipe``, ``expectations``), for messages.

    Raises:
        NotFound: The file does not exist.
        InvalidInput: The YAML does not parse.
    """
    import yaml

    if isinstance(path_or_text, Path) or "\n" not in str(path_or_text):
        path = Path(path_or_text).expanduser()
        if not path.is_file():
            raise NotFound(f"no {what} file {path}; check the path", details={"path": str(path)})
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            raise InvalidInput(f"the {what} file {path} is not UTF-8 text") from None
        where = str(path)
    else:
        text = str(path_or_text)
        where = f"the {what}"
    try:
        return yaml.safe_load(text)
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        position = f" at line {mark.line + 1} column {mark.column + 1}" if mark else ""
        problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
        raise InvalidInput(f"{where} is not valid YAML{position}: {problem}") from None
