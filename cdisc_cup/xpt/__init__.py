"""SAS XPORT version 5, the format FDA accepts study data in: the dataset model (`model`),
the writer (`write`), the FDA 5 GB split (`split`) and the reader (`read`)."""
