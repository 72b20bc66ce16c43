"""readers stage."""
