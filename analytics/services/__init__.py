"""Writes to the analytics data, split by sub-domain (positions, demo data, ...)."""
