"""What the service stores: API keys (hashes only) and the audit trail of scored proposals."""
