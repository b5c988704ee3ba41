"""Signed, URL-safe cursor tokens that carry a position exactly.

Each key value is tagged with its type so that it comes back as the same
Python value: JSON alone would turn a Decimal into a float, a date into a
string, and lose the difference between aware and naive datetimes.
"""

from __future__ import annotations

import datetime
import decimal
import uuid
from typing import TYPE_CHECKING, Any

from django.core import signing

from rangeqs._stored import StoredValue
from rangeqs.exceptions import InvalidQuerySetError

if TYPE_CHECKING:
    from collections.abc import Callable, Sequence

_ENCODERS: list[tuple[type[Any], str, Callable[[Any], Any]]] = [
    # bool before int, datetime before date: each is a subclass of the other.
    (bool, "b", bool),
    (int, "i", int),
    (float, "f", float.hex),
    (str, "s", str),
    (decimal.Decimal, "d", str),
    (uuid.UUID, "u", str),
    (datetime.datetime, "dt", datetime.datetime.isoformat),
    (datetime.date, "D", datetime.date.isoformat),
    (datetime.time, "t", datetime.time.isoformat),
    (
        datetime.timedelta,
        "td",
        lambda delta: [delta.days, delta.seconds, delta.microseconds],
    ),
]

_DECODERS: dict[str, Callable[[Any], Any]] = {
    "b": bool,
    "i": int,
    "f": float.fromhex,
    "s": str,
    "d": decimal.Decimal,
    "u": uuid.UUID,
    "dt": datetime.datetime.fromisoformat,
    "D": datetime.date.fromisoformat,
    "t": datetime.time.fromisoformat,
    "td": lambda parts: datetime.timedelta(*parts),
}


def salt(model_label: str, order_by: Sequence[str]) -> str:
    """Bind tokens to one model and one ordering."""
    return f"rangeqs.cursor:{model_label}:{','.join(order_by)}"


def encode(position: Sequence[Any], *, salt: str) -> str:
    # No timestamp (unlike signing.dumps): one position, one token, whenever
    # it is read, so tokens can be compared and stored as checkpoints.
    return signing.Signer(salt=salt).sign_object(
        [_encode_value(value) for value in position]
    )


def decode(token: str, *, salt: str, length: int) -> tuple[Any, ...]:
    try:
        payload = signing.Signer(salt=salt).unsign_object(token)
        values = tuple(_decode_value(item) for item in payload)
    except (
        signing.BadSignature,
        TypeError,
        ValueError,
        KeyError,
        decimal.InvalidOperation,
    ):
        raise InvalidQuerySetError(
            "The cursor token is invalid, altered, or made for another model or "
            "ordering: pass a token read from wrapper.cursor of a wrapper with the "
            "same model and order_by."
        ) from None
    if len(values) != length:
        raise InvalidQuerySetError(
            f"The cursor token holds {len(values)} key values but order_by has "
            f"{length}: pass a token made with the same order_by."
        )
    return values


def _encode_value(value: Any) -> Any:
    if value is None:
        return None
    if isinstance(value, StoredValue):
        # A value as the database stored it (rangeqs._stored) stays one.
        return ["r", _encode_value(value.raw)]
    for kind, tag, to_json in _ENCODERS:
        if isinstance(value, kind):
            return [tag, to_json(value)]
    raise InvalidQuerySetError(
        f"A cursor cannot carry a key of type {type(value).__name__}: order by "
        f"columns of type int, str, bool, Decimal, UUID, date, datetime, time or float."
    )


def _decode_value(item: Any) -> Any:
    if item is None:
        return None
    tag, raw = item
    if tag == "r":
        return StoredValue(_decode_value(raw))
    return _DECODERS[tag](raw)
