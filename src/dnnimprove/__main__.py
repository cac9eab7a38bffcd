"""``python -m dnnimprove``: the same as the ``dnnimprove`` command."""

import sys

from .cli import main

sys.exit(main())
