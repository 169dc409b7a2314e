import pytest


@pytest.fixture(autouse=True)
def _fresh_throttles(fresh_throttles):
    """Every test here starts and ends with an empty cache (the API's throttles)."""
