"""Consultants on their phones: login through the cloud, edge tokens checked offline."""
