"""Altman Z″ on worked examples, each checked against the hand computation written beside it."""

from __future__ import annotations

import pytest

from app import schemas
from app.services.scoring import (
    ALTMAN_Z_DOUBLE_PRIME,
    Score,
    altman_z_double_prime,
    score_of,
    zone_of,
)
from tests.conftest import SAFE_STATEMENT


def statement(**figures) -> schemas.FinancialStatementCreate:
    return schemas.FinancialStatementCreate.model_validate({**SAFE_STATEMENT, **figures})


@pytest.mark.parametrize(
    ("figures", "z", "zone", "score"),
    [
        # X1 = 200/1000 = 0.2, X2 = 0.3, X3 = 0.15, X4 = 500/500 = 1
        # Z″ = 1.312 + 0.978 + 1.008 + 1.05 = 4.348; score 70 + (4.348 - 2.6) · 10 = 87.48
        ({}, 4.348, "safe", 87.48),
        # A negative-equity firm: X1 = (300 - 400)/1000 = -0.1, X2 = -0.25, X3 = -0.02,
        # X4 = -200/1200 = -0.1667; Z″ = -0.656 - 0.815 - 0.1344 - 0.175 = -1.7804;
        # score (−1.7804 + 1.9) / 3 · 40 = 1.5947 → 1.59
        (
            {
                "total_liabilities": "1200",
                "current_assets": "300",
                "current_liabilities": "400",
                "retained_earnings": "-250",
                "ebit": "-20",
                "equity": "-200",
            },
            -1.7804,
            "distress",
            1.59,
        ),
        # X1 = 100/2000 = 0.05, X2 = 0.1, X3 = 0.05, X4 = 800/1000 = 0.8
        # Z″ = 0.328 + 0.326 + 0.336 + 0.84 = 1.83; score 40 + (1.83 - 1.1) / 1.5 · 30 = 54.6
        (
            {
                "total_assets": "2000",
                "total_liabilities": "1000",
                "current_assets": "600",
                "current_liabilities": "500",
                "retained_earnings": "200",
                "ebit": "100",
                "equity": "800",
            },
            1.83,
            "grey",
            54.6,
        ),
        # Far beyond both ends, clamped: X3 = 5 → Z″ = 1.312 + 0.978 + 33.6 + 1.05 = 36.94;
        # X2 = -10 → Z″ = 1.312 - 32.6 + 1.008 + 1.05 = -29.23
        ({"ebit": "5000"}, 36.94, "safe", 100.0),
        ({"retained_earnings": "-10000"}, -29.23, "distress", 0.0),
    ],
)
def test_worked_examples(figures, z, zone, score):
    result = altman_z_double_prime(statement(**figures))
    assert result == Score(total_score=score, model=ALTMAN_Z_DOUBLE_PRIME, model_value=z, zone=zone)


# Statements of total assets 1000 whose Z″ is exactly a boundary: X1 = 56/1000 → 0.36736,
# X2 = 656/1000 → 2.13856 (or 200/1000 → 0.652), X3 = EBIT/1000 → 6.72 · EBIT / 1000, X4 = 0.
BOUNDARY = {
    "current_assets": "56",
    "current_liabilities": "0",
    "equity": "0",
}


@pytest.mark.parametrize(
    ("retained_earnings", "ebit", "z", "zone", "score"),
    [
        ("656", "14.1", 2.6007, "safe", 70.01),  # 2.60 + 0.000672: just above
        ("656", "14", 2.6, "grey", 70.0),  # 0.36736 + 2.13856 + 0.09408 = 2.60 exactly
        ("200", "12", 1.1, "grey", 40.0),  # 0.36736 + 0.652 + 0.08064 = 1.10 exactly
        ("200", "11", 1.0933, "distress", 39.91),  # 1.10 - 0.00672 = 1.09328
    ],
)
def test_each_zone_boundary(retained_earnings, ebit, z, zone, score):
    result = altman_z_double_prime(
        statement(**BOUNDARY, retained_earnings=retained_earnings, ebit=ebit)
    )
    assert (result.model_value, result.zone, result.total_score) == (z, zone, score)


@pytest.mark.parametrize(
    ("z", "score"),
    [
        (-5, 0),
        (-1.9, 0),
        (-0.4, 20),
        (1.1, 40),
        (1.85, 55),
        (2.6, 70),
        (4.1, 85),
        (5.6, 100),
        (9, 100),
    ],
)
def test_the_score_is_piecewise_linear_through_the_published_points(z, score):
    assert score_of(z) == score


@pytest.mark.parametrize(
    ("z", "zone"),
    [(2.61, "safe"), (2.6, "grey"), (1.1, "grey"), (1.0999, "distress"), (-3, "distress")],
)
def test_zones(z, zone):
    assert zone_of(z) == zone
