"""Alibaba.com (ICBU seller API, GOP gateway) adapter and its sandbox."""
