"""`python -m sslctl` entry point (also what `torchrun -m sslctl` runs)."""

from sslctl.cli import main

main()
