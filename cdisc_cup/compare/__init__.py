"""compare stage: two sets of datasets compared, as double programming QC does."""
