"""Flipkart Marketplace Seller API v3: adapter, auth, wire models, mapping and sandbox."""
