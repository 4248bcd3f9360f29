"""Alibaba.com (ICBU) seller Open Platform adapter (GOP gateway)."""
