"""Adapters in front of the attribution and optimizer packages: the command line and the service."""
