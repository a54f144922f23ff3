"""huikuan: projections."""
