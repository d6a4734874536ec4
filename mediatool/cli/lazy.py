"""The commands of the ``mediatool`` group, each imported only when it is asked for (issue 17).

``mediatool build ...`` imports the build command alone, not every command's module (and what
they import): the start-up cost of a command is its own. ``mediatool --help`` and the documents
made from the commands (scripts/docs.py) still see every command, in the same order.
"""

from __future__ import annotations

import importlib
import importlib.abc
import sys
from collections.abc import Iterator, MutableMapping, Sequence
from importlib.machinery import ModuleSpec
from types import ModuleType

import click


class LazyCommands(MutableMapping[str, click.Command]):
    """Command name → command object, the object imported from ``"module:attribute"`` on
    first access; :attr:`click.Group.commands` may be any such mapping."""

    def __init__(self, where: dict[str, str]) -> None:
        self._where = dict(where)
        self._loaded: dict[str, click.Command] = {}

    def __getitem__(self, name: str) -> click.Command:
        if name not in self._loaded:
            module, attribute = self._where[name].split(":")
            command = getattr(importlib.import_module(module), attribute)
            if not isinstance(command, click.Command):
                raise TypeError(f"{module}:{attribute} is not a click command")
            self._loaded[name] = command
        return self._loaded[name]

    def __setitem__(self, name: str, command: click.Command) -> None:
        self._where.pop(name, None)
        self._loaded[name] = command

    def __delitem__(self, name: str) -> None:
        if name not in self._where and name not in self._loaded:
            raise KeyError(name)
        self._where.pop(name, None)
        self._loaded.pop(name, None)

    def __iter__(self) -> Iterator[str]:
        return iter(dict.fromkeys([*self._where, *self._loaded]))

    def __len__(self) -> int:
        return len(set(self._where) | set(self._loaded))

    def __contains__(self, name: object) -> bool:
        return name in self._where or name in self._loaded


class _PydicomWithoutRequests(importlib.abc.MetaPathFinder):
    """pydicom 3 imports ``requests`` (with urllib3, charset_normalizer, certifi, ssl: ~70 ms,
    a tenth of a small build) only to choose how :mod:`pydicom.data` downloads its test files
    (with urllib when requests is missing). mediatool never downloads them: while that module
    starts, ``import requests`` fails; any other import of requests is left alone."""

    def find_spec(
        self, name: str, path: Sequence[str] | None, target: ModuleType | None = None
    ) -> ModuleSpec | None:
        if name == "requests":
            download = sys.modules.get("pydicom.data.download")
            if download is not None and not hasattr(download, "HAVE_REQUESTS"):
                raise ModuleNotFoundError("not for pydicom's test-data downloader", name=name)
        return None


def import_pydicom_without_requests() -> None:
    """Install :class:`_PydicomWithoutRequests` (once) before pydicom is first imported."""
    if not any(isinstance(f, _PydicomWithoutRequests) for f in sys.meta_path):
        sys.meta_path.insert(0, _PydicomWithoutRequests())
