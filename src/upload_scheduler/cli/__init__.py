"""The command line: one module per command group. Each command parses, calls one core
function and renders the result; no business logic lives here."""
