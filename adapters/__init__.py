"""Marketplace adapters, one package each; they import only odop_sync.adapter_sdk."""
