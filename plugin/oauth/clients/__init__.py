"""OAuth clients: the rules a client must meet and its management (``manage``), dynamic
registration (RFC 7591), Client ID Metadata Documents with their safe fetch, and the apps
people know by name."""
