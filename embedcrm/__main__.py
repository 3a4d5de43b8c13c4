import sys

from embedcrm.cli import main

sys.exit(main())
