"""`python -m zvpg_cli` runs the command line."""

from ._entry import main

main()
