"""Validation errors in words: the field, the value given and what is allowed."""

from __future__ import annotations

import json
from typing import Any

_EXPECT = {
    "greater_than_equal": "expected {kind} >= {ge}",
    "greater_than": "expected {kind} > {gt}",
    "less_than_equal": "expected {kind} <= {le}",
    "less_than": "expected {kind} < {lt}",
    "int_parsing": "expected an integer",
    "int_type": "expected an integer",
    "int_from_float": "expected an integer",
    "float_parsing": "expected a number",
    "float_type": "expected a number",
    "finite_number": "expected a finite number",
    "bool_parsing": "expected true or false",
    "bool_type": "expected true or false",
    "string_type": "expected a string",
    "literal_error": "expected one of {expected}",
    "union_tag_invalid": "expected one of {expected_tags}",
    "string_pattern_mismatch": "expected lowercase letters, digits and '_', starting with a letter",
    "too_short": "expected at least {min_length} item(s)",
    "too_long": "expected at most {max_length} item(s)",
    "string_too_short": "expected at least {min_length} character(s)",
    "string_too_long": "expected at most {max_length} character(s)",
    "list_type": "expected a list",
    "tuple_type": "expected a list",
    "model_type": "expected a mapping of fields",
    "dict_type": "expected a mapping",
}


def _path(loc: tuple) -> str:
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        elif part in ("watts-strogatz", "regional", "layered"):  # union tags are not fields
            continue
        else:
            out += f".{part}" if out else str(part)
    return out or "scenario"


def describe(e: dict[str, Any]) -> str:
    """One pydantic error as a line a user can act on: the field, the value, what is allowed."""
    where, kind, ctx = _path(e["loc"]), e["type"], e.get("ctx", {})
    if kind == "missing":
        return f"{where}: is required but missing"
    if kind in ("timeline", "extension"):
        return e["msg"]
    if kind == "extra_forbidden":
        return f"{where}: is not a known field; check its spelling (scsim schema lists the fields)"
    value = e.get("input")
    if kind == "union_tag_invalid":  # report the tag field itself, not the whole mapping
        where, value = f"{where}.{ctx['discriminator'].strip(chr(39))}", ctx["tag"]
    shown = json.dumps(value) if isinstance(value, (int, float, str, bool, type(None))) else "value"
    if kind in _EXPECT:
        # a float field's bounds are floats: 2 given for a probability needs "a number"
        bounds = {k: v for k, v in ctx.items() if k in ("ge", "gt", "le", "lt")}
        whole = isinstance(value, int) and not isinstance(value, bool)
        number = (
            "an integer"
            if whole and not any(isinstance(b, float) for b in bounds.values())
            else "a number"
        )
        shown_bounds = {
            k: int(v) if isinstance(v, float) and v.is_integer() else v for k, v in bounds.items()
        }
        expected = _EXPECT[kind].format(kind=number, **{**ctx, **shown_bounds})
    else:
        expected = str(e["msg"]).removeprefix("Value error, ")
    if kind == "value_error" and not isinstance(value, (int, float, str)):
        return f"{where}: {expected}"
    if kind == "too_short" and isinstance(value, dict | list) and not value:
        return f"{where}: is empty; {expected}"
    return f"{where}: {shown} is not allowed; {expected}"
