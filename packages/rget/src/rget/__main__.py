"""``python -m rget``."""

from rget.cli import main

main()
