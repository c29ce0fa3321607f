"""The flat jobs report: the one sheet per job that dispatch systems export (customer, address, job, technician,
dates, invoice, amount), in whatever encoding, delimiter and column names the contractor's spreadsheet wrote.

reading.py turns any file into a header and streamed rows; values.py reads the cells (dates in the office's order,
amounts); mapping.py matches columns to fields; matching.py finds the customers, sites and jobs already on record
and writes the rows through the shared import path (customers/importing.py: finish_plan and apply_plan);
services.py checks or imports a file; records.py keeps each import (ReportImport) and the named mappings, runs.py
does its work (in the request, or tasks.py on a worker), folder.py is the nightly import from a folder; views.py
the pages.
"""
