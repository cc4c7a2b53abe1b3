import sys

from l2l_core.cli import main

sys.exit(main())
