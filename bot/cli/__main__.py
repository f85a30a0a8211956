"""`python -m bot.cli`: the `fundbot` console script."""
import sys

from bot.cli import main

sys.exit(main())
