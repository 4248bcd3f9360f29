"""`python -m odop_sync.cli …`, the same as `odop-sync …`."""

from odop_sync.cli import main

main()
