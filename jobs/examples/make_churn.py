"""Writes jobs/examples/data/churn.csv: the demo's sample dataset, generated (no third-party
data, so no licence beyond this project's). Re-running it gives the same bytes.

Customers with a tenure, a monthly charge, a contract type and a count of support calls;
`churned` is drawn from a logistic model of those, so a classifier can learn it well but
not perfectly.
"""

from __future__ import annotations

import csv
import math
import random
from pathlib import Path

OUT = Path(__file__).resolve().parent / "data" / "churn.csv"


def rows(n: int = 1000, seed: int = 2026):
    rnd = random.Random(seed)
    for i in range(n):
        contract = rnd.choices(["monthly", "yearly", "two_year"], [0.55, 0.3, 0.15])[0]
        tenure = rnd.randint(1, 72)
        charges = round(rnd.uniform(18, 120), 2)
        calls = min(10, int(rnd.expovariate(0.6)))
        score = (
            -1.0
            - 0.06 * tenure
            + 0.025 * charges
            + 0.55 * calls
            + {"monthly": 1.2, "yearly": -0.4, "two_year": -1.6}[contract]
        )
        churned = 1 if rnd.random() < 1 / (1 + math.exp(-score)) else 0
        yield [f"c{i:04d}", tenure, charges, contract, calls, churned]


def main() -> None:
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with OUT.open("w", newline="") as f:
        w = csv.writer(f, lineterminator="\n")
        w.writerow(
            ["customer", "tenure_months", "monthly_charges", "contract", "support_calls", "churned"]
        )
        w.writerows(rows())


if __name__ == "__main__":
    main()
