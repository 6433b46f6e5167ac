"""The OAuth 2 authorization server: clients, codes, tokens, consent and the CLI."""
