"""huikuan: plugins."""
