"""Modules of your own: a mechanic written in your own file or package, named in a scenario.

A scenario's ``extensions`` maps a module name to where its class is, ``"path/to/file.py:Class"``
(a relative path is read from the scenario file's folder) or ``"package.module:Class"``; an
installed package can instead register it under the entry-point group ``scsim.modules``. The
class is a ``scsim.protocol.Module`` whose ``name`` is that name and whose ``Params`` (a
``scsim.params.ModuleParams``) validates its block under ``modules:``. See docs/extending.md.
"""

from __future__ import annotations

import importlib
import importlib.util
import sys
from importlib.metadata import entry_points
from pathlib import Path

from scsim.params import ModuleParams
from scsim.protocol import Module

ENTRY_POINTS = "scsim.modules"
"""The entry-point group installed packages register their modules in."""

_LOADED: dict[tuple[str, str | None], type[Module]] = {}


class ExtensionError(ValueError):
    """A module of one's own that cannot be used; the message says where and why."""


def find(name: str, spec: str | None) -> type[Module]:
    """The module class called ``name``: from ``spec`` (``file.py:Class`` or
    ``package.module:Class``), else from an installed package's entry point."""
    key = (name, spec)
    if key not in _LOADED:
        _LOADED[key] = _checked(name, spec, _load(name, spec))
    return _LOADED[key]


def _load(name: str, spec: str | None) -> object:
    if spec is None:
        found = [ep for ep in entry_points(group=ENTRY_POINTS) if ep.name == name]
        if not found:
            raise ExtensionError(
                f"modules.{name}: no such module; expected a built-in module, an entry of "
                f"extensions: naming its class, or a package registering {name!r} in the "
                f"entry-point group {ENTRY_POINTS!r}"
            )
        return found[0].load()
    where, sep, attr = spec.rpartition(":")
    if not sep or not where or not attr:
        raise ExtensionError(
            f"extensions.{name}: {spec!r} is not allowed; expected 'path/to/file.py:Class' or "
            "'package.module:Class'"
        )
    try:
        module = _import_file(name, Path(where)) if where.endswith(".py") else None
        module = module or importlib.import_module(where)
    except ExtensionError:
        raise
    except Exception as err:  # the user's code: whatever it raises, say where
        raise ExtensionError(
            f"extensions.{name}: importing {where!r} failed: {type(err).__name__}: {err}"
        ) from None
    try:
        return getattr(module, attr)
    except AttributeError:
        raise ExtensionError(f"extensions.{name}: {where!r} has no {attr!r}") from None


def _import_file(name: str, path: Path) -> object:
    if not path.is_file():
        raise ExtensionError(f"extensions.{name}: {str(path)!r} is not a readable file")
    module_name = f"scsim_extension_{name}"
    spec = importlib.util.spec_from_file_location(module_name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[module_name] = module  # the fused kernel imports the hooks by module name
    spec.loader.exec_module(module)
    return module


def _checked(name: str, spec: str | None, cls: object) -> type[Module]:
    where = f"extensions.{name}" if spec else f"modules.{name}"
    if not (isinstance(cls, type) and issubclass(cls, Module)):
        raise ExtensionError(f"{where}: {cls!r} is not a subclass of scsim.protocol.Module")
    if getattr(cls, "name", None) != name:
        raise ExtensionError(
            f"{where}: the class's name is {getattr(cls, 'name', None)!r}; expected {name!r}"
        )
    params = getattr(cls, "Params", None)
    if not (isinstance(params, type) and issubclass(params, ModuleParams)):
        raise ExtensionError(
            f"{where}: the class needs Params, a subclass of scsim.params.ModuleParams"
        )
    return cls


def module_class(name: str, extensions: dict[str, str]) -> type[Module]:
    """The class of module ``name``: built in, or of one's own (``extensions``)."""
    from scsim.modules import REGISTRY

    return REGISTRY[name] if name in REGISTRY else find(name, extensions.get(name))
