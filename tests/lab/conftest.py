"""Lab tests: the session `lab` fixture and the failure report with logs."""

from tests.lab.fixture import lab, pytest_runtest_makereport

__all__ = ["lab", "pytest_runtest_makereport"]
