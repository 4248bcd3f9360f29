"""Marketplace accounts: adapter slug, encrypted credentials, pricing and stock rules."""
