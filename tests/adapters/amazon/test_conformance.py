from odop_sync.adapter_sdk.testing import AdapterConformance


class TestAmazonConformance(AdapterConformance):
    """The shared suite against the Amazon sandbox (fixtures `env` and `sample_listings` come
    from this folder's conftest)."""
