"""The scorers: a financial statement in, a score of 0 to 100 and its details out.

The default is Edward I. Altman's Z″-score in its 1995 form for private and non-manufacturing
firms (E. I. Altman, J. Hartzell and M. Peck, "Emerging Markets Corporate Bonds: A Scoring
System", Salomon Brothers, 1995; E. I. Altman and E. Hotchkiss, "Corporate Financial Distress
and Bankruptcy", 3rd ed., Wiley, 2006), without the emerging-market constant:

    Z″ = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4
    X1 = (current assets − current liabilities) / total assets    (working capital)
    X2 = retained earnings / total assets
    X3 = EBIT / total assets
    X4 = book value of equity / total liabilities

Zones: `safe` above 2.60, `grey` from 1.10 to 2.60, `distress` below 1.10. The score (0-100) is
piecewise linear through (Z″ −1.9 → 0), (1.1 → 40), (2.6 → 70) and (5.6 → 100), clamped at both
ends and rounded to 2 decimals, so the pages' bands (below 40, 40 to 70, above 70) are the zones.

Another scorer replaces it with the setting SCORER=module:function: a function that takes the
statement (app.schemas.FinancialStatement) and returns a Score, or raises ScoringError with a
sentence for people. Anything else it raises fails the run too.
"""

from __future__ import annotations

import importlib
import math
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal

from app import schemas

DEFAULT_SCORER = "app.services.scoring:altman_z_double_prime"
ALTMAN_Z_DOUBLE_PRIME = "Altman Z″"

# (Z″, score) corners of the mapping, lowest first.
SCORE_CURVE = ((-1.9, 0.0), (1.1, 40.0), (2.6, 70.0), (5.6, 100.0))
SAFE_ABOVE, DISTRESS_BELOW = 2.60, 1.10


@dataclass(frozen=True)
class Score:
    """What a scorer returns: the score (0-100), the model's name, and its own figure and zone."""

    total_score: float
    model: str
    model_value: float | None = None
    zone: str | None = None


class ScoringError(Exception):
    """A scorer cannot score this statement; the message is shown with the failed run."""


Scorer = Callable[[schemas.FinancialStatement], Score]


def altman_z_double_prime(statement: schemas.FinancialStatement) -> Score:
    """Return the statement's Altman Z″, its zone, and the score it maps to."""
    z = z_double_prime(statement)
    return Score(
        total_score=score_of(z),
        model=ALTMAN_Z_DOUBLE_PRIME,
        model_value=round(z, 4),
        zone=zone_of(z),
    )


def z_double_prime(statement: schemas.FinancialStatement) -> float:
    """Return Z″ = 6.56·X1 + 3.26·X2 + 6.72·X3 + 1.05·X4, computed exactly, as a float."""
    assets, liabilities = statement.total_assets, statement.total_liabilities
    x1 = (statement.current_assets - statement.current_liabilities) / assets
    x2 = statement.retained_earnings / assets
    x3 = statement.ebit / assets
    x4 = statement.equity / liabilities
    z = Decimal("6.56") * x1 + Decimal("3.26") * x2 + Decimal("6.72") * x3 + Decimal("1.05") * x4
    return float(z)


def zone_of(z: float) -> str:
    """Return Altman's zone for a Z″: safe (> 2.60), grey (1.10 to 2.60), distress (< 1.10)."""
    if z > SAFE_ABOVE:
        return "safe"
    if z >= DISTRESS_BELOW:
        return "grey"
    return "distress"


def score_of(z: float) -> float:
    """Return the score (0-100) of a Z″: piecewise linear through SCORE_CURVE, clamped."""
    (low_z, low_score), (high_z, high_score) = SCORE_CURVE[0], SCORE_CURVE[-1]
    if z <= low_z:
        return low_score
    if z >= high_z:
        return high_score
    for (z0, s0), (z1, s1) in zip(SCORE_CURVE, SCORE_CURVE[1:], strict=False):
        if z <= z1:
            return round(s0 + (s1 - s0) * (z - z0) / (z1 - z0), 2)
    raise AssertionError("unreachable")  # pragma: no cover


def load_scorer(name: str) -> Scorer:
    """Return the function named "module:function", or raise ScoringError saying why not."""
    module_name, _, function_name = name.partition(":")
    try:
        scorer = getattr(importlib.import_module(module_name), function_name)
    except (ImportError, AttributeError, ValueError):
        raise ScoringError(f"The configured scorer {name!r} cannot be loaded.") from None
    if not callable(scorer):
        raise ScoringError(f"The configured scorer {name!r} is not a function.")
    return scorer


def checked(result: object, name: str) -> Score:
    """Return the scorer's result if it is a Score with a finite total_score of 0 to 100."""
    if not isinstance(result, Score):
        raise ScoringError(f"The scorer {name!r} returned no Score.")
    score = result.total_score
    if isinstance(score, bool) or not isinstance(score, int | float) or not math.isfinite(score):
        raise ScoringError(f"The scorer {name!r} returned a score that is not a number.")
    if not 0 <= score <= 100:
        raise ScoringError(f"The scorer {name!r} returned {score}, outside 0 to 100.")
    value = result.model_value
    if value is not None and (isinstance(value, bool) or not isinstance(value, int | float)):
        raise ScoringError(f"The scorer {name!r} returned a model value that is not a number.")
    if value is not None and not math.isfinite(value):
        raise ScoringError(f"The scorer {name!r} returned a model value that is not finite.")
    if not result.model or len(result.model) > 100:
        raise ScoringError(f"The scorer {name!r} returned no model name (1-100 characters).")
    if result.zone is not None and len(result.zone) > 32:
        raise ScoringError(f"The scorer {name!r} returned a zone longer than 32 characters.")
    return result
