"""Commands built on the figures: checking specs in CI (check, lock) and comparing models (sweep, sizes, diff)."""
