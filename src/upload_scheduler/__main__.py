"""`python -m upload_scheduler` behaves exactly like the `upload-scheduler` script."""

from upload_scheduler.cli.app import main

if __name__ == "__main__":
    main()
