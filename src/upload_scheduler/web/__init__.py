"""The dashboard (`upload-scheduler dashboard`): Starlette, Jinja2 and htmx shipped in
the package, reading through queue, operations and store, never through the CLI."""
