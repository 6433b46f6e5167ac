"""Connection traces of the OAuth steps: what each step means, and for a failure why it
failed and what to change."""
