from odop_sync.adapter_sdk.testing import AdapterConformance


class TestFlipkartConformance(AdapterConformance):
    """The shared suite against the Flipkart sandbox (fixtures `env` and `sample_listings` come
    from this folder's conftest; the offers carry no FSN, so the adapter reads it from Flipkart)."""
