# Labels (haven::read_xpt) and character lengths (foreign::lookup.xport) of one XPT file, as JSON.
suppressMessages({library(haven); library(foreign); library(jsonlite)})
path <- commandArgs(trailingOnly = TRUE)[1]
data <- read_xpt(path)
info <- lookup.xport(path)[[1]]
labels <- vapply(names(data), function(n) { l <- attr(data[[n]], "label"); if (is.null(l)) "" else l }, "")
cat(toJSON(list(names = names(data), labels = unname(labels), widths = setNames(as.list(info$width), info$name),
                types = setNames(as.list(info$type), info$name)), auto_unbox = TRUE))
