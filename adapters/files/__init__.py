"""Adapters that write files: the mail outbox folder of the embedded default."""
