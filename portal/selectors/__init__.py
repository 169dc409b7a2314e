"""Reads behind the portal's pages, one module per page group (the invoice-file
pages read through `invoicefiles.selectors`).

Every function takes the biller the caller got from `portal.access.portal_biller`
and reads only that biller's rows: a row of another biller is not found, the
same as a row that does not exist.
"""
