"""`upload-scheduler demo`: the real main job out of the box.

It writes a work folder (config, CP932 product CSV, SQLite database), starts the BASE,
eBay and Yahoo! sandboxes as processes (those `--platforms` names), logs every account
in through OAuth (eBay's and Yahoo!'s through `token login --code`), imports and queues
the products with the code of `products import` and `add-to-queue`, runs `manager start
--detach`, shows a live view, and ends with a summary per platform checked against each
sandbox's record.

The entry point is `upload_scheduler.demo.run.run_demo`. This package file imports
nothing, so the command line's start-up stays quick (`demo.options` is read for --help).
"""
