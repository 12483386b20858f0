"""The eBay adapter (Sell Inventory and Account APIs) and an eBay-compatible sandbox
server (`sandbox/`)."""
