"""Allow ``python -m lifes_node`` as well as the ``lifes-node`` console script."""

import sys

from lifes_node.cli import main

sys.exit(main())
