"""Conversion between kehu's classes and the JSON the native module speaks.

Each dataclass is compiled once into two functions: ``encode`` (an instance
or a plain dict to JSON-ready values, checking types and naming the path of
a wrong one) and ``decode`` (JSON values to an instance). Dates become
``datetime.date``, instants UTC-aware ``datetime.datetime``, decimals
``decimal.Decimal``; nothing becomes a float by accident.
"""

from __future__ import annotations

import dataclasses
import datetime as _dt
import sys
import typing
from decimal import Decimal
from typing import Any, Callable, Dict, List, Mapping, Optional, Tuple, Type, TypeVar, Union

T = TypeVar("T")

Encoder = Callable[[Any, str], Any]
Decoder = Callable[[Any], Any]

_UTC = _dt.timezone.utc


def type_name(value: object) -> str:
    """The name of a value's type, for messages."""
    return type(value).__name__


def parse_instant(text: str) -> _dt.datetime:
    """An RFC 3339 instant (as chrono writes it: nanoseconds, ``Z``) as a UTC datetime."""
    t = text
    if t.endswith("Z") or t.endswith("z"):
        t = t[:-1] + "+00:00"
    dot = t.find(".")
    if dot != -1:
        end = dot + 1
        while end < len(t) and t[end].isdigit():
            end += 1
        frac = t[dot + 1 : end]
        t = t[:dot] + ("." + (frac + "000000")[:6] if frac else "") + t[end:]
    value = _dt.datetime.fromisoformat(t)
    if value.tzinfo is None:
        value = value.replace(tzinfo=_UTC)
    return value.astimezone(_UTC)


def format_instant(value: Any, path: str) -> str:
    """A timezone-aware datetime (or an ISO 8601 text with an offset) as RFC 3339, UTC."""
    if isinstance(value, str):
        try:
            value = parse_instant(value)
        except ValueError:
            raise TypeError(f"{path}: not an ISO 8601 instant: {value[:40]!r}") from None
    if not isinstance(value, _dt.datetime):
        raise TypeError(f"{path}: expected a datetime, got {type_name(value)}")
    if value.tzinfo is None or value.utcoffset() is None:
        raise TypeError(
            f"{path}: a naive datetime is ambiguous; give it a time zone "
            "(datetime.timezone.utc, or the zone it was recorded in)"
        )
    u = value.astimezone(_UTC)
    return u.strftime("%Y-%m-%dT%H:%M:%S") + (f".{u.microsecond:06d}" if u.microsecond else "") + "Z"


def format_date(value: Any, path: str) -> str:
    """A date (or a ``YYYY-MM-DD`` text) as ``YYYY-MM-DD``."""
    if isinstance(value, _dt.datetime):
        raise TypeError(f"{path}: expected a date, got a datetime (use .date())")
    if isinstance(value, _dt.date):
        return value.isoformat()
    if isinstance(value, str):
        try:
            return _dt.date.fromisoformat(value.strip()).isoformat()
        except ValueError:
            raise TypeError(f"{path}: not a YYYY-MM-DD date: {value[:40]!r}") from None
    raise TypeError(f"{path}: expected a date, got {type_name(value)}")


def _enc_str(value: Any, path: str) -> Any:
    if not isinstance(value, str):
        raise TypeError(f"{path}: expected str, got {type_name(value)}")
    return value


def _enc_int(value: Any, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, int):
        raise TypeError(f"{path}: expected int, got {type_name(value)}")
    return value


def _enc_bool(value: Any, path: str) -> Any:
    if not isinstance(value, bool):
        raise TypeError(f"{path}: expected bool, got {type_name(value)}")
    return value


def _enc_float(value: Any, path: str) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, Decimal)):
        raise TypeError(f"{path}: expected a number, got {type_name(value)}")
    return float(value)


def _enc_decimal(value: Any, path: str) -> Any:
    if isinstance(value, float):
        raise TypeError(f"{path}: a float is not exact; give a decimal.Decimal or a str")
    if isinstance(value, (Decimal, int, str)) and not isinstance(value, bool):
        return str(value)
    raise TypeError(f"{path}: expected a Decimal, got {type_name(value)}")


def _enc_any(value: Any, path: str) -> Any:
    return value


def _dec_id(value: Any) -> Any:
    return value


def _dec_decimal(value: Any) -> Any:
    return Decimal(str(value))


def _dec_date(value: Any) -> Any:
    return _dt.date.fromisoformat(value)


def _dec_float(value: Any) -> Any:
    return float(value)


_encoders: Dict[Any, Tuple[Encoder, Decoder]] = {}


def converters(tp: Any) -> Tuple[Encoder, Decoder]:
    """The (encode, decode) pair of a type annotation."""
    try:
        return _encoders[tp]
    except (KeyError, TypeError):
        pass
    pair = _build(tp)
    try:
        _encoders[tp] = pair
    except TypeError:
        pass
    return pair


def _build(tp: Any) -> Tuple[Encoder, Decoder]:
    special = getattr(tp, "__kehu_codec__", None)
    if special is not None:
        return typing.cast(Tuple[Encoder, Decoder], special)
    if tp is str:
        return _enc_str, _dec_id
    if tp is bool:
        return _enc_bool, _dec_id
    if tp is int:
        return _enc_int, _dec_id
    if tp is float:
        return _enc_float, _dec_float
    if tp is Decimal:
        return _enc_decimal, _dec_decimal
    if tp is _dt.datetime:
        return format_instant, parse_instant
    if tp is _dt.date:
        return format_date, _dec_date
    if tp is Any or tp is object:
        return _enc_any, _dec_id
    if dataclasses.is_dataclass(tp) and isinstance(tp, type):
        return _dataclass(tp)
    origin = typing.get_origin(tp)
    args = typing.get_args(tp)
    if origin is Union:
        rest = [a for a in args if a is not type(None)]
        if len(rest) != 1:
            raise TypeError(f"unsupported union {tp}")
        enc, dec = converters(rest[0])

        def enc_opt(value: Any, path: str) -> Any:
            return None if value is None else enc(value, path)

        def dec_opt(value: Any) -> Any:
            return None if value is None else dec(value)

        return enc_opt, dec_opt
    if origin in (list, List):
        enc_i, dec_i = converters(args[0])

        def enc_list(value: Any, path: str) -> Any:
            if type(value) is list:
                return [enc_i(v, f"{path}[{i}]") for i, v in enumerate(value)]
            if isinstance(value, (str, bytes, Mapping)) or not hasattr(value, "__iter__"):
                raise TypeError(f"{path}: expected a list, got {type_name(value)}")
            return [enc_i(v, f"{path}[{i}]") for i, v in enumerate(value)]

        def dec_list(value: Any) -> Any:
            return [dec_i(v) for v in value]

        return enc_list, dec_list
    if origin in (tuple, Tuple):
        pairs = [converters(a) for a in args]

        def enc_tuple(value: Any, path: str) -> Any:
            if not isinstance(value, (tuple, list)) or len(value) != len(pairs):
                raise TypeError(f"{path}: expected a tuple of {len(pairs)}")
            return [e(v, f"{path}[{i}]") for i, ((e, _), v) in enumerate(zip(pairs, value))]

        def dec_tuple(value: Any) -> Any:
            return tuple(d(v) for (_, d), v in zip(pairs, value))

        return enc_tuple, dec_tuple
    if origin in (dict, Dict):
        enc_v, dec_v = converters(args[1])

        def enc_dict(value: Any, path: str) -> Any:
            if type(value) is not dict and not isinstance(value, Mapping):
                raise TypeError(f"{path}: expected a dict, got {type_name(value)}")
            out = {}
            for k, v in value.items():
                if not isinstance(k, str):
                    raise TypeError(f"{path}: keys must be str, got {type_name(k)}")
                out[k] = enc_v(v, f"{path}.{k}")
            return out

        def dec_dict(value: Any) -> Any:
            return {k: dec_v(v) for k, v in value.items()}

        return enc_dict, dec_dict
    if origin is typing.Literal:
        allowed = args

        def enc_literal(value: Any, path: str) -> Any:
            if value not in allowed:
                choices = ", ".join(repr(a) for a in allowed)
                raise TypeError(f"{path}: expected one of {choices}, got {value!r}")
            return value

        return enc_literal, _dec_id
    raise TypeError(f"no converter for {tp!r}")


def _dataclass(cls: type) -> Tuple[Encoder, Decoder]:
    module = sys.modules[cls.__module__]
    hints = typing.get_type_hints(cls, vars(module))
    fields = [f for f in dataclasses.fields(cls) if f.init]
    names = {f.name for f in fields}
    wire = {f.name: f.metadata.get("wire", f.name) for f in fields}
    plan: List[Tuple[str, str, Encoder, Decoder, Any]] = []
    for f in fields:
        enc, dec = converters(hints[f.name])
        if f.default is not dataclasses.MISSING:
            default: Any = f.default
        elif f.default_factory is not dataclasses.MISSING:
            default = f.default_factory
        else:
            default = dataclasses.MISSING
        plan.append((f.name, wire[f.name], enc, dec, default))
    coerce = getattr(cls, "_coerce_input", None)
    skip_none = getattr(cls, "_skip_none", ())
    # Classes whose Rust type fills missing fields with defaults: a dict is
    # encoded key by key, without writing the defaults it leaves out.
    sparse = bool(getattr(cls, "_sparse", False))
    by_name = {name: (key, enc) for name, key, enc, _, _ in plan}
    label = cls.__name__

    def unknown_field(k: Any, path: str) -> TypeError:
        return TypeError(f"{path}: {label} has no field {k!r} (its fields: {', '.join(sorted(names))})")

    def encode(value: Any, path: str) -> Any:
        if isinstance(value, cls):
            get = value.__dict__.get
        elif type(value) is dict or isinstance(value, Mapping):
            if coerce is not None:
                value = coerce(value)
            if sparse:
                out = {}
                for k, v in value.items():
                    e = by_name.get(k)
                    if e is None:
                        raise unknown_field(k, path)
                    if v is None and k in skip_none:
                        continue
                    out[e[0]] = e[1](v, path + "." + k)
                return out
            unknown = [k for k in value if k not in names]
            if unknown:
                raise unknown_field(unknown[0], path)
            get = value.get
        else:
            raise TypeError(f"{path}: expected a {label} or a dict, got {type_name(value)}")
        out = {}
        for name, key, enc, _, default in plan:
            v = get(name, dataclasses.MISSING)
            if v is dataclasses.MISSING:
                if default is dataclasses.MISSING:
                    raise TypeError(f"{path}: {label} needs {name!r}")
                v = default() if callable(default) else default
            if v is None and name in skip_none:
                continue
            out[key] = enc(v, f"{path}.{name}")
        return out

    def decode(value: Any) -> Any:
        obj: Any = object.__new__(cls)
        d = obj.__dict__
        for name, key, _, dec, default in plan:
            v = value.get(key, dataclasses.MISSING)
            if v is dataclasses.MISSING:
                v = None if default is dataclasses.MISSING else (default() if callable(default) else default)
            else:
                v = dec(v)
            d[name] = v
        return obj

    return encode, decode


def encode(cls: Type[Any], value: Any, path: Optional[str] = None) -> Any:
    """An instance of ``cls`` (or a dict of its fields) as JSON-ready values."""
    return converters(cls)[0](value, path or cls.__name__.lower())


def decode(cls: Type[T], value: Any) -> T:
    """JSON values as an instance of ``cls``."""
    return typing.cast(T, converters(cls)[1](value))


def decode_list(cls: Type[T], values: Any) -> List[T]:
    """A JSON list as instances of ``cls``."""
    dec = converters(cls)[1]
    return [dec(v) for v in values]
