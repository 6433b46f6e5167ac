"""The API every client reads: the operation registry, the OpenAPI builder, fields and URLs."""
