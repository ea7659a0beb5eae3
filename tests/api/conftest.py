import pytest

from autoservice.apitokens import token_create
from autoservice.models import ApiScope

ALL_SCOPES = tuple(ApiScope.values)
READ_SCOPES = tuple(s for s in ApiScope.values if s.endswith(":read"))


def bearer(raw: str) -> dict:
    return {"HTTP_AUTHORIZATION": f"Bearer {raw}"}


@pytest.fixture
def make_token(db):
    def make(shop, scopes=ALL_SCOPES, **kwargs):
        _token, raw = token_create(shop=shop, name="amoCRM", scopes=scopes, **kwargs)
        return raw

    return make


@pytest.fixture
def api(client, shop, make_token):
    """The test client speaking for the shop's CRM with every scope."""
    client.defaults.update(bearer(make_token(shop)))
    return client
