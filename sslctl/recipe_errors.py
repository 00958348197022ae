"""One line per recipe problem, from pydantic's error records: `dotted.path: problem, got
VALUE`, the field named once (never a union's branch or a discriminator's tag), a close match
offered for a mistyped key or value, and a key that belongs to another modality's data section
named as such (a `--set data.modality=...` switch that left the old modality's keys)."""

from __future__ import annotations

import re
import typing
from collections.abc import Mapping, Sequence
from typing import Any

from pydantic import BaseModel

from sslctl.errors import did_you_mean

# How pydantic names a union's branch in an error's path (train.num_workers.int and
# train.num_workers.literal['auto'] are one field): left out, so a field is named once.
_BRANCH = re.compile(
    r"^(int|float|str|bool|none|constrained-\w+|literal\[.*\]|list\[.*\]|dict\[.*\])$"
)
# Errors the recipe's own validators raise: the field each names.
_FIELD_OF = {
    "method_modality": "method.name",
    "preset_kind": "data.augment.preset",
    "encoder_missing": "encoder",
    "students": "students",
    "teacher_kind": "teacher",
}
_BOUNDS = {
    "greater_than": "> {gt}",
    "greater_than_equal": ">= {ge}",
    "less_than": "< {lt}",
    "less_than_equal": "<= {le}",
}


def short_repr(value: Any, limit: int = 60) -> str:
    """What an error echoes of a value: its repr, cut (a YAML alias bomb expands to megabytes)."""
    text = repr(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _models(annotation: Any) -> list[type[BaseModel]]:
    """The recipe sections an annotation can hold (through Optional, lists, unions)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    found = []
    for arg in typing.get_args(annotation):
        found += _models(arg)
    return found


def _tagged(candidates: list[type[BaseModel]], tag: str) -> type[BaseModel] | None:
    """The member of a discriminated union that `tag` names: by a Literal field (a method's
    `name`, a modality's `modality`) or, for a teacher kind, its one key's field."""
    for model in candidates:
        if tag in model.model_fields:
            return model
        for field in model.model_fields.values():
            if typing.get_origin(field.annotation) is typing.Literal and typing.get_args(
                field.annotation
            ) == (tag,):
                return model
    return None


def section_at(root: type[BaseModel], loc: Sequence[Any]) -> type[BaseModel] | None:
    """The recipe section (model) an error's raw path leads to, tags included, or None."""
    model: type[BaseModel] | None = root
    candidates: list[type[BaseModel]] = []
    for part in loc:
        if isinstance(part, int) or part == "[key]" or _BRANCH.match(str(part)):
            continue
        if model is None:
            model = _tagged(candidates, str(part))
            if model is not None:
                continue
            return None
        field = model.model_fields.get(str(part))
        if field is None:
            return None
        candidates = _models(field.annotation)
        model = candidates[0] if len(candidates) == 1 else None
    return model


def _unknown_key(path: str, key: str, section: type[BaseModel] | None, others: Mapping) -> str:
    """`path: unknown key`, naming the modality whose data section has the key (the recipe's
    modality was switched), else the section's close match."""
    line = f"{path}: unknown key"
    if section is None:
        return line
    owners = [name for name, spec in others.items() if key in spec.model_fields]
    modality = section.model_fields.get("modality") if path.startswith("data.") else None
    if owners and modality is not None:
        now = typing.get_args(modality.annotation)[0]
        return (
            f"{line} for {now} data, a key of {' and '.join(owners)} data (data.modality was "
            f"switched? remove the {' and '.join(owners)} keys)"
        )
    return line + did_you_mean(key, list(section.model_fields))


def describe(
    err: dict, root: type[BaseModel], tags: Mapping[str, Sequence[str]], data: Mapping
) -> str:
    """One pydantic error as one line; `tags` are each discriminated section's tag names
    (method names, modalities, teacher kinds), `data` every modality's data section."""
    # a mapping's bad key is named by its own name, not "[key]"
    loc = [str(p) for p in err["loc"] if p != "[key]" and not _BRANCH.match(str(p))]
    # Discriminated unions put the tag in the path (method.simclr.temperature): drop it.
    if len(loc) > 1 and loc[1] in tags.get(loc[0], ()):
        loc = [loc[0]] + loc[2:]
    path = ".".join(loc) or "recipe"
    kind, ctx, given = err["type"], err.get("ctx", {}), err.get("input")
    if kind == "union_tag_invalid":
        tag = ctx.get("discriminator", "").strip("'")
        expected = str(ctx.get("expected_tags", ""))
        hint = did_you_mean(str(ctx.get("tag")), re.findall(r"'([^']*)'", expected))
        return f"{path}.{tag}: unknown value {ctx.get('tag')!r}{hint}; valid: {expected}"
    if kind == "union_tag_not_found":
        return f"{path}: missing required key {ctx.get('discriminator')}"
    if kind == "extra_forbidden":
        return _unknown_key(path, loc[-1], section_at(root, err["loc"][:-1]), data)
    if kind == "missing":
        return f"{path}: required field missing"
    if kind in _FIELD_OF:
        return f"{_FIELD_OF[kind]}: {err['msg']}"
    if kind in _BOUNDS:
        shown = {k: f"{v:g}" if isinstance(v, float) else v for k, v in ctx.items()}
        return f"{path}: must be {_BOUNDS[kind].format(**shown)}, got {short_repr(given)}"
    msg = err["msg"].removeprefix("Value error, ")
    if kind == "literal_error" and isinstance(given, str):
        msg += did_you_mean(given, re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
    if kind == "string_pattern_mismatch" and loc == ["name"]:
        msg = "must be one path component of letters, digits, '.', '_' or '-'"
    return f"{path}: {msg}, got {short_repr(given)}"
