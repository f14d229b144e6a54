"""``python -m motionvigil.cli`` (and ``torchrun -m motionvigil.cli``)."""

import sys

from motionvigil.cli import main

sys.exit(main())
