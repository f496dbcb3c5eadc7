from tests.core.exchanges.conftest import offer, partners, people

__all__ = ["offer", "partners", "people"]
