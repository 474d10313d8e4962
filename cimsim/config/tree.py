"""The machinery every configuration tree of cimsim shares: frozen, strict, validated tables.

A configuration is a :class:`ConfigRoot` (the CIM chip's :class:`~cimsim.config.chip.ChipConfig`,
the baseline's :class:`~cimsim.config.von_neumann.VonNeumannConfig`) whose fields are sections,
each a :class:`Node` whose fields are values. Validation is strict: ``"6"`` is not an integer,
``True`` is not a number, a float is not an integer (an integer is accepted where a float is
expected and stored as a float).

Every way in (the constructors, :meth:`ConfigRoot.from_dict`, :meth:`ConfigRoot.from_toml`,
:meth:`ConfigRoot.override`) raises :class:`~cimsim.errors.ConfigError` on bad input, one line
per problem, each naming the dotted field (``adc.bits``), the value given and what is allowed.
"""

import contextlib
import functools
import os
import tomllib
from collections.abc import Callable, Iterator, Mapping, Sequence
from pathlib import Path
from typing import Annotated, Any, Literal, Self, Union, get_args, get_origin

import numpy as np
import tomli_w
from annotated_types import Ge, Gt, Le
from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator
from pydantic_core import PydanticCustomError

from cimsim.errors import ConfigError
from cimsim.fileio import atomic_write_text

_CROSS_FIELD = "cimsim_cross_field"
"""pydantic error type of the rules that relate two fields of one section."""


def cross_field_error(field: str, value: Any, allowed: str) -> PydanticCustomError:
    """An error for ``field`` of the section being validated, reported as ``section.field``."""
    return PydanticCustomError(_CROSS_FIELD, "{field}: {allowed}", {"field": field, "value": value, "allowed": allowed})


class Node(BaseModel):
    """A table of the configuration tree: frozen, strict, no unknown keys, ConfigError on bad input."""

    model_config = ConfigDict(frozen=True, extra="forbid", strict=True, allow_inf_nan=False)

    def __init__(self, **data: Any) -> None:
        with _config_errors(type(self)):
            super().__init__(**data)

    def __setattr__(self, name: str, value: Any) -> None:
        raise ConfigError(_frozen_message(self, name))

    def __delattr__(self, name: str) -> None:
        raise ConfigError(_frozen_message(self, name))


class BaseMeta(Node):
    """What the configuration is and where its numbers come from (each tree adds its ``architecture``)."""

    name: str = Field("custom", description="Short name of the configuration (a preset's file name).")
    source: str = Field(
        "user",
        description="Where the numbers come from: reference row ids of "
        "docs/reference/reference_figures.csv (e.g. 'ISAAC-02..09, DEV-16') or a citation.",
    )
    description: str = Field("", description="What the configuration models and what it leaves out.")
    allow_unphysical: bool = Field(
        False, description="Accept values beyond physical sense (fields marked 'Refused above ...', the chip "
        "area): for idealised studies only; the bounds and their reasons are in those fields' descriptions.",
    )


def physical_field(default: Any, *, limit: float, reason: str, description: str, **bounds: Any) -> Any:
    """A field that :class:`ConfigRoot` refuses above ``limit`` (its ``reason`` said in its description).

    ``bounds`` are pydantic's hard bounds (``ge``, ``le``); the physical limit is soft: a configuration
    with ``meta.allow_unphysical = true`` may exceed it.
    """
    text = f"{description} Refused above {limit:,g} ({reason}) unless meta.allow_unphysical = true."
    return Field(default, description=text, json_schema_extra={PHYSICAL_LIMIT: limit, PHYSICAL_REASON: reason},
                 **bounds)


PHYSICAL_LIMIT, PHYSICAL_REASON = "physical_limit", "physical_reason"
"""Keys of a :func:`physical_field`'s ``json_schema_extra``: its limit and the reason for it."""


def unphysical(path: str, value: Any, limit: float, reason: str) -> str:
    """One line for a value beyond physical sense: the dotted field, the value, the bound, its reason."""
    return (f"{path}: got {value!r}, allowed: at most {limit:,g} ({reason}); "
            "set meta.allow_unphysical = true to simulate it anyway")


class ConfigRoot(Node):
    """A whole configuration: sections of fields (frozen; use :meth:`override` for a changed copy).

    Fields made with :func:`physical_field` are refused above their limit unless
    ``meta.allow_unphysical`` is true (one line per field beyond its limit).
    """

    @model_validator(mode="after")
    def _check_physical_limits(self) -> Self:
        if getattr(getattr(self, "meta", None), "allow_unphysical", False):
            return self
        lines = []
        for section_name, name, limit, reason in _physical_fields(type(self)):
            value = getattr(getattr(self, section_name), name)
            if value > limit:
                lines.append(unphysical(f"{section_name}.{name}", value, limit, reason))
        if lines:
            raise ConfigError("\n".join(lines))
        return self

    def override(self, updates: Mapping[str, Any]) -> Self:
        """A new, validated config with ``updates`` (``{"adc.bits": 6, ...}``) applied all at once.

        Every path is ``section.field``. NumPy scalars are taken as the Python value they hold,
        so sweep grids built with NumPy work. ``self`` is left unchanged.
        """
        if not isinstance(updates, Mapping):
            raise ConfigError(f"override: expected a mapping of dotted paths to values, got {updates!r}")
        changed: dict[str, dict[str, Any]] = {}
        for path, value in updates.items():
            parts = _resolve(type(self), path)
            if len(parts) != 2:
                raise ConfigError(f"override path {path!r} names a section; give a field, e.g. '{parts[0]}.<field>'")
            changed.setdefault(parts[0], {})[parts[1]] = value.item() if isinstance(value, np.generic) else value
        # the sections left alone are passed as they are (pydantic does not validate a model instance
        # again); the changed ones are built here, then the tree's own rules run once
        data: dict[str, Any] = {name: getattr(self, name) for name in type(self).model_fields}
        lines: list[str] = []
        for section in data:
            if section in changed:
                try:
                    data[section] = type(data[section])(**(data[section].model_dump() | changed[section]))
                except ConfigError as exc:
                    lines += [line for line in str(exc).splitlines() if line not in lines]
        if lines:
            raise ConfigError("\n".join(lines))
        return type(self)(**data)

    def get(self, path: str) -> Any:
        """The value at a dotted path (``"adc.bits"``), or a whole section (``"adc"``)."""
        node: Any = self
        for part in _resolve(type(self), path):
            node = getattr(node, part)
        return node

    def to_dict(self) -> dict[str, dict[str, Any]]:
        """``{section: {field: value}}`` of plain Python values."""
        return self.model_dump()

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Self:
        """A validated config from ``{section: {field: value}}``; missing entries take defaults."""
        if not isinstance(data, Mapping):
            raise ConfigError(f"config: got {data!r}, allowed: a table of sections {_names(cls)}")
        return validate(cls, dict(data), source=None)

    def to_toml(self) -> str:
        """TOML text with every field; ``from_toml`` of it gives back an equal config."""
        return tomli_w.dumps(self.to_dict())

    @classmethod
    def from_toml(cls, text: str) -> Self:
        """A validated config from TOML text; missing entries take defaults."""
        return validate(cls, parse_toml(text, source=None), source=None)

    def save(self, path: str | os.PathLike[str]) -> None:
        """Write :meth:`to_toml` to ``path`` atomically (temporary file in the same directory, then rename)."""
        atomic_write_text(Path(path), self.to_toml())


def parse_toml(text: str, source: str | None) -> dict[str, Any]:
    """The tables of TOML ``text``; ConfigError (prefixed by ``source``) on a syntax error."""
    try:
        return tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:  # the message carries "(at line L, column C)"
        raise ConfigError(join_lines(source, [f"invalid TOML: {exc}"])) from None


def validate(cls: type[ConfigRoot], data: dict[str, Any], source: str | None) -> ConfigRoot:
    """``cls`` validated from ``data``; ConfigError (prefixed by ``source``) on bad input."""
    with _config_errors(cls, source):
        return cls.model_validate(data)


def join_lines(source: str | None, lines: list[str]) -> str:
    """Problems as one message: prefixed by ``source`` (a file or preset) when there is one."""
    if source is None:
        return "\n".join(lines)
    if len(lines) == 1:
        return f"{source}: {lines[0]}"
    return f"{source}:\n" + "\n".join(f"  {line}" for line in lines)


# --------------------------------------------------------------------------- helpers


@functools.cache
def _physical_fields(root: type[ConfigRoot]) -> tuple[tuple[str, str, float, str], ...]:
    """(section, field, limit, reason) of every :func:`physical_field` of ``root``'s tree, in tree order."""
    fields = []
    for section_name, section_info in root.model_fields.items():
        section = section_info.annotation
        for name, info in (section.model_fields.items() if _is_node(section) else ()):
            extra = info.json_schema_extra if isinstance(info.json_schema_extra, dict) else {}
            if PHYSICAL_LIMIT in extra:
                fields.append((section_name, name, extra[PHYSICAL_LIMIT], extra[PHYSICAL_REASON]))
    return tuple(fields)


def _is_node(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, Node)


def _names(model: type[Node]) -> str:
    return ", ".join(model.model_fields)


def _section_of(model: type[Node]) -> list[str]:
    """Path of a section class in its tree ([] for a root)."""
    for root in ConfigRoot.__subclasses__():
        for name, info in root.model_fields.items():
            if info.annotation is model:
                return [name]
    return []


def _unknown(model: type[Node], parts: list[str]) -> str:
    """Message for ``parts[-1]``, which is not a field of ``model`` (the table at ``parts[:-1]``)."""
    if len(parts) == 1:
        return f"unknown section {parts[0]!r}; allowed sections: {_names(model)}"
    return f"unknown field {'.'.join(parts)!r}; allowed fields of [{'.'.join(parts[:-1])}]: {_names(model)}"


def _resolve(model: type[Node], path: Any) -> list[str]:
    """Check a dotted path against the tree and return its parts."""
    if not isinstance(path, str):
        raise ConfigError(f"config path must be a string like 'adc.bits', got {path!r}")
    return list(_resolved(model, path))


@functools.lru_cache(maxsize=1024)
def _resolved(model: type[Node], path: str) -> tuple[str, ...]:
    """:func:`_resolve` of a string, once per tree and path (a sweep reads the same few paths at every point)."""
    parts = path.split(".")
    current: type[Node] | None = model
    for i, part in enumerate(parts):
        if current is None:
            raise ConfigError(f"config path {path!r}: {'.'.join(parts[:i])!r} is a value, not a section")
        if part not in current.model_fields:
            message = _unknown(current, parts[: i + 1])
            raise ConfigError(message if i + 1 == len(parts) else f"{message} (in path {path!r})")
        annotation = current.model_fields[part].annotation
        current = annotation if _is_node(annotation) else None
    return tuple(parts)


def _frozen_message(node: Node, name: str) -> str:
    section = _section_of(type(node))
    path = ".".join([*section, name])
    example = path if section else f"{name}.<field>"
    return f"cannot assign {path!r}: configurations are frozen; use cfg.override({{{example!r}: value}}) for a changed copy"


@contextlib.contextmanager
def _config_errors(model: type[Node], source: str | None = None) -> Iterator[None]:
    """Turn a pydantic ValidationError raised inside into a ConfigError, one line per problem."""
    try:
        yield
    except ValidationError as exc:
        lines: list[str] = []
        for error in exc.errors():
            # A table validated inside another runs its own __init__, which has already turned
            # its problems into a ConfigError (pydantic wraps it as a value_error): keep its lines.
            cause = error.get("ctx", {}).get("error")
            new = str(cause).splitlines() if isinstance(cause, ConfigError) else [_describe(model, error)]
            lines += [line for line in new if line not in lines]  # a union reports each member; one line is enough
        raise ConfigError(join_lines(source, lines)) from None


def _describe(model: type[Node], error: Any) -> str:
    """One line for one pydantic error: the dotted field, the value given, what is allowed."""
    parts, table, info = _section_of(model), model, None
    rest = list(error["loc"])
    while rest and table is not None and rest[0] in table.model_fields:
        name = rest.pop(0)
        info = table.model_fields[name]
        parts.append(name)
        table = info.annotation if _is_node(info.annotation) else None
    path = ".".join(parts) or "config"
    if error["type"] == "extra_forbidden" and table is not None and rest:
        return f"{_unknown(table, [*parts, str(rest[0])])} (given {error['input']!r})"
    if error["type"] == _CROSS_FIELD:
        ctx = error["ctx"]
        return f"{'.'.join([*parts, ctx['field']])}: got {ctx['value']!r}, allowed: {ctx['allowed']}"
    if table is not None:
        return f"{path}: got {error['input']!r}, allowed: a table with fields {_names(table)}"
    if info is not None:
        return f"{path}: got {error['input']!r}, allowed: {allowed_values(info.annotation, info.metadata)}"
    return f"{path}: got {error['input']!r}: {error['msg']}"


def allowed_values(annotation: Any, metadata: list[Any]) -> str:
    """What a field accepts, in words: 'an integer from 1 to 24', "one of 'max', 'calibrated'"."""
    origin = get_origin(annotation)
    if origin is Annotated:
        base, *extra = get_args(annotation)
        return allowed_values(base, [*metadata, *extra])
    if origin is Union:
        return ", or ".join(allowed_values(member, []) for member in get_args(annotation))
    if origin is Literal:
        return "one of " + ", ".join(repr(value) for value in get_args(annotation))
    if annotation is bool:
        return "true or false"
    if annotation is str:
        return "a string"
    noun = "an integer" if annotation is int else "a finite number"
    return noun + bounds_text(metadata)


def bounds_text(metadata: list[Any]) -> str:
    lower = next((m for m in metadata if isinstance(m, (Ge, Gt))), None)
    upper = next((m for m in metadata if isinstance(m, Le)), None)
    if isinstance(lower, Ge) and upper is not None:
        return f" from {lower.ge} to {upper.le}"
    words = []
    if lower is not None:
        words.append(f">= {lower.ge}" if isinstance(lower, Ge) else f"> {lower.gt}")
    if upper is not None:
        words.append(f"<= {upper.le}")
    return (" " + " and ".join(words)) if words else ""


class RegisteredNames:
    """The names a configuration field accepts from a registry that lives above the configuration.

    A registry of models (device models in :mod:`cimsim.physics`, ADC energy models in
    :mod:`cimsim.costs`) imports the configuration, never the reverse; when it is imported (which
    ``import cimsim`` does) it hands its listing function over with :meth:`listed_by`, and the
    field's validator calls this object for the names registered at that moment.
    """

    def __init__(self, what: str):
        self.what = what  # e.g. "device model", for messages
        self._list: Callable[[], Sequence[str]] = tuple

    def listed_by(self, list_names: Callable[[], Sequence[str]]) -> None:
        """Take the registry's listing function (called with no argument, it gives the names)."""
        self._list = list_names

    def __call__(self) -> tuple[str, ...]:
        return tuple(self._list())


DEVICE_MODEL_NAMES = RegisteredNames("device model")
"""The names ``device.program_noise``, ``device.read_noise`` and ``device.drift_nu`` accept."""

ADC_ENERGY_MODEL_NAMES = RegisteredNames("ADC energy model")
"""The names ``energy.adc_model`` accepts."""


class ProvidedLater:
    """A function of a configuration that lives above the configuration, handed over when its module is imported.

    The chip's area is computed by :mod:`cimsim.costs.area` (which imports the configuration, never
    the reverse); importing it (which ``import cimsim`` does) calls :meth:`provided_by`, and the
    configuration's validator calls this object. Until then it gives None and the check is skipped.
    """

    def __init__(self, what: str):
        self.what = what  # e.g. "chip area (mm²)", for messages
        self._function: Callable[[Any], float] | None = None

    def provided_by(self, function: Callable[[Any], float]) -> None:
        self._function = function

    def __call__(self, cfg: Any) -> float | None:
        return None if self._function is None else self._function(cfg)


CHIP_AREA_MM2 = ProvidedLater("chip area (mm²)")
"""The area of a :class:`~cimsim.config.chip.ChipConfig` in mm², from :mod:`cimsim.costs.area`."""
