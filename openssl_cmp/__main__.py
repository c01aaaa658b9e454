"""``python -m openssl_cmp``: the command line (``demo`` when no arguments are given)."""

import sys

from openssl_cmp.cli import main

sys.exit(main(sys.argv[1:] or ["demo"]))
