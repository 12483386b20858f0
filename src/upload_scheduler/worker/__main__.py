"""`python -m upload_scheduler.worker --config PATH daemon --platform P --account A`:
one daemon, started without the command line's libraries (see `worker/entry.py`)."""

import sys

from upload_scheduler.worker.entry import main

if __name__ == "__main__":
    sys.exit(main())
