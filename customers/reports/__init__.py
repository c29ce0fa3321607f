"""The flat jobs report: the one sheet per job that dispatch systems export (customer, address, job, technician,
dates, invoice, amount), in whatever encoding, delimiter and column names the contractor's spreadsheet wrote.

reading.py turns any file into a header and rows; values.py reads the cells (dates in the office's order,
amounts); mapping.py matches columns to fields and keeps named mappings; matching.py finds the customers, sites and
jobs already on record and writes the rows through the shared import path (customers/importing.py: finish_plan and
apply_plan); runs.py keeps each import's record and runs large files in the background.
"""
