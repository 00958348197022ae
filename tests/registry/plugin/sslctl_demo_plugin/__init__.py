"""A package outside sslctl that adds a method (SimSiam) and a coreset strategy (k-means++
seeding) through entry points: what tests/registry/test_plugins.py installs to check the
plugin path."""
