"""`python -m studio ...` is `studio ...` (and what `torchrun -m studio` runs)."""

from studio.entry import main

main()
