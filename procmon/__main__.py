"""``python -m procmon``: the same as the ``procmon`` command."""

import sys

from procmon.cli import main

sys.exit(main())
