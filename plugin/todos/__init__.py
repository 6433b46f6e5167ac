"""The sample plugin: a personal todo list, shaped as a template for your own endpoints."""
