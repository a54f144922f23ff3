"""huikuan: adapters."""
