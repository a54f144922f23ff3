"""huikuan: core."""
