"""Entry point for ``python3 -m chef_cron`` and for the zipapp."""

import sys

from chef_cron.cli import main

sys.exit(main())
