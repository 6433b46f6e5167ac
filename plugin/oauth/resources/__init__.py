"""The resources tokens are for: their audiences (RFC 8707), the ``/mcp`` guard (RFC 9728)
and ``require_oauth`` for the API."""
