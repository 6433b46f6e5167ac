"""What ChatGPT reads: the manifest, the OpenAPI document, CORS, context headers, ``check``."""
