import sys

from openssl_cmp.cli import main

sys.exit(main(sys.argv[1:] or ["demo"]))
