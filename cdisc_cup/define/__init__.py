"""Define-XML: one model of a define.xml in memory, and how it is built, read, validated and shown.

Below the stages (it uses the specs, the CT and the XPT dataset model, nothing of mapping,
rules or writers), so that the writer, the rules and Dataset-JSON share one description of
the datasets instead of each deriving its own:

    identifiers  OIDs, the file name, source system and creation time define.xml and Dataset-JSON share
    document     namespaces, the safe parser, serialisation
    shapes       DataType, Length, SignificantDigits, DisplayFormat from the data; value-level metadata
    build        the Define-XML 2.1 document from the specs and the frames written (an lxml tree)
    model        the define.xml model: datasets, variables, codelists, standards cited
    read         the model from a built tree or from a file (Define-XML 1.0, 2.0, 2.1)
    validate     the Define-XML 2.1 XSD check, offline
    html         define.html with the CDISC stylesheet
"""
