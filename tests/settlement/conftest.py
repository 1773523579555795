"""Fixtures of the settlement tests: the care personas (an optician paid to a bank account,
the care configuration) for the runs made of claims."""

from tests.care.conftest import config, paid_optician

__all__ = ["config", "paid_optician"]
