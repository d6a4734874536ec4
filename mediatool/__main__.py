"""``python -m mediatool`` runs the command line."""

from mediatool.cli import main

main()
