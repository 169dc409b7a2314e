import pytest

from tests.billers.factories import BillerFactory, PortalUserFactory


@pytest.fixture
def biller(db):
    return BillerFactory(name="Town of Testing")


@pytest.fixture
def other_biller(db):
    return BillerFactory(name="Somewhere Else")


@pytest.fixture
def staff(biller):
    """A portal user of `biller` only."""
    return PortalUserFactory(username="clerk", billers=[biller])


@pytest.fixture
def portal(client, staff):
    """A test client logged in as `staff`."""
    client.force_login(staff)
    return client
