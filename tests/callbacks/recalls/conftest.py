import pytest

from tests.factories import TechnicianFactory


@pytest.fixture
def alice(db):
    return TechnicianFactory(username="alice", first_name="Alice", last_name="Ames")


@pytest.fixture
def bob(db):
    return TechnicianFactory(username="bob", first_name="Bob", last_name="Byrne")


@pytest.fixture
def carol(db):
    return TechnicianFactory(username="carol", first_name="Carol", last_name="Cho")


@pytest.fixture
def dave(db):
    return TechnicianFactory(username="dave", first_name="Dave", last_name="Diaz")
