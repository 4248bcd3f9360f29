"""Where an Amazon seller account's calls go: the SP-API regional endpoint that serves its
marketplace, and Login with Amazon's global token endpoint.

From Amazon's SP-API documentation ("SP-API Endpoints" and "Marketplace IDs"). Hosts are never
taken from an account's credentials: a tenant cannot aim the service at another host. An operator
may stand a sandbox in for these hosts in development and testing (settings: marketplace_hosts).
"""

from __future__ import annotations

from collections.abc import Mapping

NORTH_AMERICA = "https://sellingpartnerapi-na.amazon.com"
EUROPE = "https://sellingpartnerapi-eu.amazon.com"
FAR_EAST = "https://sellingpartnerapi-fe.amazon.com"
LWA_TOKEN_URL = "https://api.amazon.com/auth/o2/token"  # noqa: S105 - a URL, not a secret

# marketplace id -> (country code, SP-API endpoint)
MARKETPLACES: Mapping[str, tuple[str, str]] = {
    "A2EUQ1WTGCTBG2": ("CA", NORTH_AMERICA),
    "ATVPDKIKX0DER": ("US", NORTH_AMERICA),
    "A1AM78C64UM0Y8": ("MX", NORTH_AMERICA),
    "A2Q3Y263D00KWC": ("BR", NORTH_AMERICA),
    "A28R8C7NBKEWEA": ("IE", EUROPE),
    "A1RKKUPIHCS9HS": ("ES", EUROPE),
    "A1F83G8C2ARO7P": ("UK", EUROPE),
    "A13V1IB3VIYZZH": ("FR", EUROPE),
    "AMEN7PMS3EDWL": ("BE", EUROPE),
    "A1805IZSGTT6HS": ("NL", EUROPE),
    "A1PA6795UKMFR9": ("DE", EUROPE),
    "APJ6JRA9NG5V4": ("IT", EUROPE),
    "A2NODRKZP88ZB9": ("SE", EUROPE),
    "AE08WJ6YKNBMC": ("ZA", EUROPE),
    "A1C3SOZRARQ6R3": ("PL", EUROPE),
    "ARBP9OOSHTCHU": ("EG", EUROPE),
    "A33AVAJ2PDY3EV": ("TR", EUROPE),
    "A17E79C6D8DWNP": ("SA", EUROPE),
    "A2VIGQ35RCS4UG": ("AE", EUROPE),
    "A21TJRUUN4KGV": ("IN", EUROPE),
    "A19VAU5U5O7RUS": ("SG", FAR_EAST),
    "A39IBJ37TRP1C6": ("AU", FAR_EAST),
    "A1VC38T7YXB528": ("JP", FAR_EAST),
}

# Every origin the adapter may call, for the operator's sandbox redirect.
HOSTS: tuple[str, ...] = (NORTH_AMERICA, EUROPE, FAR_EAST, "https://api.amazon.com")


def endpoint_for(marketplace_id: str) -> str:
    """The SP-API endpoint of a marketplace (KeyError for a marketplace Amazon does not list)."""
    return MARKETPLACES[marketplace_id][1]
