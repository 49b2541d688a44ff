"""Adapters shared by the services: the MongoDB case record."""
