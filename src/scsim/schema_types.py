"""Types, constraints and defaults of pydantic fields in words, for the scenario reference
(``scsim.schema``): ``number``, ``one of: a, b``, ``0 ≤ x ≤ 1``, ``1–8 items``."""

from __future__ import annotations

import json
import types
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from scsim.params import ModuleParams

NAME_PATTERN = r"^[a-z][a-z0-9_]*$"
"""The pattern of ``scsim.params.Name``, said in words."""

TOO_LONG = 40
"""Defaults longer than this many characters are summarised."""

_BOUNDS = ("ge", "gt", "le", "lt", "min_length", "max_length", "pattern", "allow_inf_nan")


def unwrap(tp: Any) -> tuple[Any, list[Any]]:
    """The type under ``Annotated`` and the constraint objects it carries."""
    found: list[Any] = []
    while get_origin(tp) is Annotated:
        tp, *extra = get_args(tp)
        for item in extra:
            found.extend(item.metadata if isinstance(item, FieldInfo) else [item])
    return tp, found


def is_union(tp: Any) -> bool:
    return get_origin(tp) in (Union, types.UnionType)


def is_model(tp: Any) -> bool:
    return isinstance(tp, type) and issubclass(tp, BaseModel)


def number(value: Any) -> str:
    """A bound or default as written in YAML; large powers of two as ``2^k``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int) and value >= 2**20 and value & (value - 1) == 0:
        return f"2^{value.bit_length() - 1}"
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return str(int(value))
    return str(value)


def words(tp: Any) -> str:
    """A type as people read it: number, integer, text, true/false, one of: a, b, list of ..."""
    tp, _ = unwrap(tp)
    if is_union(tp):
        parts = [a for a in get_args(tp) if a is not type(None)]
        text = " or ".join(dict.fromkeys(words(a) for a in parts))
        return f"{text}, or null" if len(parts) < len(get_args(tp)) else text
    origin, args = get_origin(tp), get_args(tp)
    if origin is Literal:
        return "one of: " + ", ".join(str(a) for a in args)
    if origin is list:
        return f"list of {_plural(words(args[0]))}" if args else "list"
    if origin is tuple:
        return "[" + ", ".join(words(a) for a in args) + "]"
    if origin is dict:
        key, value = (_grouped(words(a)) for a in args) if args else ("text", "any value")
        return f"mapping of {key} → {value}"
    if is_model(tp):
        return "mapping"
    names = {bool: "true/false", int: "integer", float: "number", str: "text", Any: "any value"}
    return names.get(tp, getattr(tp, "__name__", str(tp)))


def _grouped(text: str) -> str:
    return f"({text})" if "," in text or " or " in text else text


def _plural(text: str) -> str:
    if text.startswith(("one of", "[", "list of", "any")) or "," in text or " or " in text:
        return _grouped(text)
    return {"true/false": "true/false values"}.get(text, text + "s")


def _size(low: int | None, high: int | None, unit: str) -> str | None:
    if low is not None and high is not None:
        return f"{low}–{high} {unit}"
    if low is not None:
        return f"at least {low} {unit.removesuffix('s') if low == 1 else unit}"
    if high is not None:
        return f"at most {high} {unit.removesuffix('s') if high == 1 else unit}"
    return None


def constraint(metadata: list[Any], tp: Any) -> str:
    """The range a list of constraint objects allows, e.g. ``0 ≤ x ≤ 1``, ``> 0``, ``1–8 items``."""
    seen = {k: getattr(m, k) for m in metadata for k in _BOUNDS if getattr(m, k, None) is not None}
    parts = []
    if "pattern" in seen:
        pattern = seen["pattern"]
        named = pattern == NAME_PATTERN
        parts.append(
            "lowercase letters, digits, _; a letter first" if named else f"matches {pattern}"
        )
    low = f"{number(seen['ge'])} ≤ " if "ge" in seen else None
    low = f"{number(seen['gt'])} < " if "gt" in seen else low
    high = f" ≤ {number(seen['le'])}" if "le" in seen else None
    high = f" < {number(seen['lt'])}" if "lt" in seen else high
    if low and high:
        parts.append(f"{low}x{high}")
    elif low:  # "0 ≤ " reads "≥ 0"
        value, sign = low.rstrip().rsplit(" ", 1)
        parts.append(f"{'≥' if sign == '≤' else '>'} {value}")
    elif high:
        parts.append(high.strip())
    unit = "characters" if unwrap(tp)[0] is str else "items"
    size = _size(seen.get("min_length"), seen.get("max_length"), unit)
    parts += [size] if size else []
    if seen.get("allow_inf_nan") is False:
        parts.append("finite")
    return "; ".join(parts)


def allowed(tp: Any, metadata: list[Any]) -> str:
    """A field's own constraints, then those of its list items, mapping keys and values."""
    tp, inner = unwrap(tp)
    own = constraint([*metadata, *inner], tp)
    parts = [own] if own else []
    args = get_args(tp)
    if is_union(tp):
        parts += [a for a in (allowed(t, []) for t in args if t is not type(None)) if a]
    elif get_origin(tp) is list and args and not is_model(args[0]):
        item = allowed(args[0], [])
        parts += [f"each {item}"] if item else []
    elif get_origin(tp) is dict and args:
        key, value = (allowed(a, []) for a in args)
        parts += [f"keys: {key}"] if key else []
        parts += [f"values: {value}"] if value else []
    return "; ".join(parts)


def compact(value: Any) -> str:
    """A value as a short YAML flow: ``[a, b]``, ``{a: 1}``, ``null``."""
    if value is None:
        return "null"
    if isinstance(value, bool | int | float):
        return number(value)
    if isinstance(value, str):
        return value if value else '""'
    if isinstance(value, list | tuple):
        return "[" + ", ".join(compact(v) for v in value) + "]"
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k}: {compact(v)}" for k, v in value.items()) + "}"
    return json.dumps(value, default=str)


def default(field: FieldInfo) -> str:
    """A field's default in words: a value, ``required``, or a summary of a long one."""
    if field.is_required():
        return "required"
    if getattr(field, "default_factory_takes_validated_data", False):
        return "computed from the other fields"
    value = field.get_default(call_default_factory=True)
    if isinstance(value, ModuleParams):
        return "on, with its fields' defaults"
    if isinstance(value, BaseModel) and not value.model_fields_set:
        tags = [
            f"{name}: {getattr(value, name)}"
            for name, info in type(value).model_fields.items()
            if get_origin(unwrap(info.annotation)[0]) is Literal
            and len(get_args(unwrap(info.annotation)[0])) == 1
        ]
        return ", ".join([*tags, "its fields' defaults"])
    if isinstance(value, BaseModel):
        value = value.model_dump(mode="json")
    elif isinstance(value, list) and value and isinstance(value[0], BaseModel):
        return f"a built-in list of {len(value)}"
    text = compact(value)
    if len(text) > TOO_LONG and isinstance(value, dict | list):
        return f"a built-in {'list' if isinstance(value, list) else 'mapping'} of {len(value)}"
    return text
