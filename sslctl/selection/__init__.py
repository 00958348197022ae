"""Coreset strategies on embeddings, one module each with its `select`; each is declared
(name, whether it needs a target) in `sslctl/specs/strategies/`, torch-free."""
