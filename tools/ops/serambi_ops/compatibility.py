"""Is a new JSON Schema of an event backward compatible with the committed one?

Events are read for ever (replays) by readers old and new, so a change is compatible only if
both can still read both: no property removed, no type changed, nothing newly required, no
constraint tightened, no enum value removed. New optional properties and new enum values are
compatible (readers ignore unknown fields; consumers must tolerate unknown enum values).
A breaking change needs a new versioned event type plus an upcaster.
"""

from __future__ import annotations

import json
from typing import Any

TIGHTER = {
    "maxLength": "lt",
    "maxItems": "lt",
    "maximum": "lt",
    "minLength": "gt",
    "minItems": "gt",
    "minimum": "gt",
}


def _inline(schema: Any, defs: dict[str, Any]) -> Any:
    if isinstance(schema, dict):
        if "$ref" in schema:
            return _inline(defs[schema["$ref"].rsplit("/", 1)[-1]], defs)
        return {key: _inline(value, defs) for key, value in schema.items() if key != "$defs"}
    if isinstance(schema, list):
        return [_inline(item, defs) for item in schema]
    return schema


def _variants(schema: dict[str, Any]) -> list[dict[str, Any]]:
    return schema.get("anyOf") or schema.get("oneOf") or [schema]


def _compare(old: dict[str, Any], new: dict[str, Any], path: str) -> list[str]:
    problems: list[str] = []
    old_variants, new_variants = _variants(old), _variants(new)
    if len(old_variants) > 1 or len(new_variants) > 1:
        old_types = {v.get("type") for v in old_variants}
        new_types = {v.get("type") for v in new_variants}
        if not old_types <= new_types:
            problems.append(f"{path}: type {sorted(map(str, old_types))} → {sorted(map(str, new_types))}")
        for old_v in old_variants:
            match = next((v for v in new_variants if v.get("type") == old_v.get("type")), None)
            if match is not None:
                problems += _compare(old_v, match, path)
        return problems
    if old.get("type") != new.get("type"):
        return [f"{path}: type {old.get('type')} → {new.get('type')}"]
    for key, direction in TIGHTER.items():
        before, after = old.get(key), new.get(key)
        if after is not None and (
            before is None or (after < before if direction == "lt" else after > before)
        ):
            problems.append(f"{path}: {key} tightened {before} → {after}")
    if old.get("pattern") != new.get("pattern") and new.get("pattern") is not None:
        problems.append(f"{path}: pattern changed")
    if "enum" in old and set(old["enum"]) - set(new.get("enum", old["enum"])):
        problems.append(f"{path}: enum values removed {sorted(set(old['enum']) - set(new['enum']))}")
    old_props, new_props = old.get("properties", {}), new.get("properties", {})
    for name, old_prop in old_props.items():
        if name not in new_props:
            problems.append(f"{path}.{name}: removed")
        else:
            problems += _compare(old_prop, new_props[name], f"{path}.{name}")
    for name in sorted(set(new.get("required", [])) - set(old.get("required", []))):
        problems.append(f"{path}.{name}: newly required")
    if "items" in old and "items" in new:
        problems += _compare(old["items"], new["items"], f"{path}[]")
    return problems


def breaking_changes(old: dict[str, Any], new: dict[str, Any]) -> list[str]:
    """Human-readable reasons why ``new`` cannot replace ``old`` (empty: compatible)."""
    return _compare(_inline(old, old.get("$defs", {})), _inline(new, new.get("$defs", {})), "$")


def canonical(data: Any) -> str:
    return json.dumps(data, indent=2, sort_keys=True, ensure_ascii=False) + "\n"
