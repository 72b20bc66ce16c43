#!/usr/bin/env bash
# Installs R and haven from Debian packages for tests/test_downstream_readers.py (issue #8):
# FDA reviewers open XPT files in SAS and R, so the test reads our files back with haven::read_xpt.
# Idempotent: does nothing when Rscript and haven (with jsonlite) are already there.
set -euo pipefail

if command -v Rscript >/dev/null 2>&1 \
    && Rscript -e 'quit(status = !all(c("haven", "jsonlite", "foreign") %in% rownames(installed.packages())))' \
        >/dev/null 2>&1; then
    echo "R with haven and jsonlite is already installed: $(Rscript --version 2>&1 | head -n 1)"
    exit 0
fi

SUDO=""
if [ "$(id -u)" -ne 0 ]; then
    SUDO="sudo"
fi

export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update
$SUDO apt-get install -y --no-install-recommends r-base-core r-cran-haven r-cran-jsonlite r-cran-foreign
Rscript -e 'library(haven); library(jsonlite); cat("haven", as.character(packageVersion("haven")), "\n")'
