import sys

from hexitime.cli import main

sys.exit(main())
