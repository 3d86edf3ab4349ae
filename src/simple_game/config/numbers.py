"""Numbers in YAML files and ``--set``: ``1e4`` is a whole number, ``true`` is not a number.

PyYAML follows YAML 1.1, where a float needs a dot and a signed exponent: ``1.0e+4`` is read as
a float, but ``1e4`` and ``1.0e4`` are read as strings. People write ``total_timesteps: 1e6``
anyway, so every integer field (and every integer hyperparameter) accepts any spelling of a
whole number and refuses a fraction. Pydantic's lax mode would read ``true`` as ``1``; a boolean
where a number belongs is a mistake, so number fields refuse it.

:data:`Int` and :data:`Float` are the annotated types the schemas use; :func:`whole_number` and
:func:`finite_number` are the same rules for the hyperparameter check.
"""

from __future__ import annotations

import math
from decimal import Decimal, InvalidOperation
from typing import Annotated, Any

from pydantic import BeforeValidator

WHOLE_NUMBER_HELP = "expected a whole number (an integer like 10000 or 1e4)"
# Beyond this many digits a "whole number" is a typo (1e400), not a step count.
_MAX_DIGITS = 30


def whole_number(value: Any) -> int:
    """``10000``, ``1e4``, ``"1e4"``, ``10000.0``, ``"10_000"`` -> ``10000``; else ``ValueError``.

    Strings are read with :class:`~decimal.Decimal`, so ``1e23`` is exactly ``10**23``.
    """
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str):
        try:
            number = Decimal(value.strip())
        except InvalidOperation:
            number = Decimal("NaN")
        if number.is_finite() and number == number.to_integral_value() and number.adjusted() < _MAX_DIGITS:
            return int(number)
    raise ValueError(f"{WHOLE_NUMBER_HELP}, got {shown(value)}")


def finite_number(value: Any) -> float:
    """``0.01``, ``1e-3``, ``"1e-3"``, ``2`` -> a finite float; ``true``, ``"inf"``, ``"fast"`` -> ``ValueError``."""
    if isinstance(value, (int, float, str)) and not isinstance(value, bool):
        try:
            number = float(value)
        except ValueError:
            number = math.nan
        if math.isfinite(number):
            return number
    raise ValueError(f"expected a finite number, got {shown(value)}")


def _not_boolean(value: Any) -> Any:
    if isinstance(value, bool):
        raise ValueError(f"expected a number, got {shown(value)}")
    return value


def shown(value: Any) -> str:
    """A value as the user typed it: ``1.5e3`` and ``true`` rather than ``'1.5e3'`` and ``True``."""
    if isinstance(value, bool):
        return "true" if value else "false"
    return value if isinstance(value, str) and value.strip() else repr(value)


# The schema's integer and float types: ``n_envs: Int = Field(default=8, gt=0)``.
Int = Annotated[int, BeforeValidator(whole_number)]
Float = Annotated[float, BeforeValidator(_not_boolean)]
