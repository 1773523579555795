"""Fixtures of the corrections tests: the nomenclatures (shared with tests/invoices) and
invoices of a pharmacist, accepted or rejected, as the lots store them."""

from __future__ import annotations

from tests.invoices.conftest import _loaded_nomenclatures, nomenclatures

__all__ = ["_loaded_nomenclatures", "nomenclatures"]
