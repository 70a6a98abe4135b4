import sys

from clausewarden.cli import main

sys.exit(main())
