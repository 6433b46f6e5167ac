"""The authorization server: Authlib's server with its grants and its revocation and
introspection endpoints."""
