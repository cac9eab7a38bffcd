"""``python -m dnnimprove.cli``: the ``dnnimprove`` command."""

import sys

from . import main

sys.exit(main())
