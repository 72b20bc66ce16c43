#!/usr/bin/env Rscript
# What haven::read_xpt sees in XPT files, as JSON, for tests/test_downstream_readers.py.
# Usage: Rscript dump_xpt.R OUT_DIR FILE.xpt...   (writes OUT_DIR/<file name>.json each)
# Numbers are written as C99 hex floats (sprintf "%a") so the comparison is exact; dates and
# datetimes go back to SAS numbers (days / seconds since 1960-01-01); special missing values
# (haven's tagged NA) as ".A"-".Z", "._"; plain NA as null.
suppressPackageStartupMessages({
  library(haven)
  library(jsonlite)
})

sas_numbers <- function(x) {
  offset <- if (inherits(x, "Date")) 3653 else if (inherits(x, "POSIXct")) 315619200 else 0
  raw <- unclass(x)
  attributes(raw) <- NULL
  tagged <- is_tagged_na(raw)
  out <- ifelse(is.na(raw), NA_character_, sprintf("%a", raw + offset))
  out[tagged] <- paste0(".", toupper(na_tag(raw[tagged])))
  out
}

scalar <- function(x) unbox(if (is.null(x)) NA else x)

describe <- function(name, column) {
  list(
    name = unbox(name),
    label = scalar(attr(column, "label", exact = TRUE)),
    format = scalar(attr(column, "format.sas", exact = TRUE)),
    width = scalar(attr(column, "width", exact = TRUE)),
    type = unbox(if (is.character(column)) "Char" else "Num"),
    r_class = class(column)
  )
}

args <- commandArgs(trailingOnly = TRUE)
out_dir <- args[[1]]
for (path in args[-1]) {
  data <- read_xpt(path)
  dump <- list(
    label = scalar(attr(data, "label", exact = TRUE)),
    rows = unbox(nrow(data)),
    variables = unname(Map(describe, names(data), data)),
    values = lapply(data, function(column) if (is.character(column)) column else sas_numbers(column))
  )
  writeLines(toJSON(dump, na = "null", null = "null", digits = NA),
             file.path(out_dir, paste0(basename(path), ".json")), useBytes = TRUE)
}
