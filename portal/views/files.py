"""Invoice files: the list of a biller's uploads, a file with its refused rows,
and its BIF. The reads go through `invoicefiles.selectors`."""

from django.contrib.auth.decorators import login_required
from django.http import Http404
from django.shortcuts import render
from django.views.decorators.http import require_GET

from invoicefiles.downloads import bif_response
from invoicefiles.selectors import (
    invoice_file_bif,
    invoice_file_errors_page,
    invoice_file_of_biller,
    invoice_files_of_biller,
)
from partners.selectors import biller_redactor
from portal import formatting
from portal.access import biller_page
from portal.forms import BadInput, page_number

FILES_PER_PAGE = 50
ERRORS_PER_PAGE = 200


@require_GET
@login_required
@biller_page
def files(request, biller):
    context = {"biller": biller, "section": "files"}
    try:
        number = page_number(request)
    except BadInput as e:
        return render(request, "portal/files.html", {**context, "error": str(e)}, status=400)
    rows = invoice_files_of_biller(biller=biller)
    offset = (number - 1) * FILES_PER_PAGE
    page = list(rows[offset : offset + FILES_PER_PAGE + 1])
    if number > 1 and not page:
        return render(
            request,
            "portal/files.html",
            {**context, "error": f"There is no page {number}: there are fewer files."},
            status=400,
        )
    context.update(
        {
            "files": page[:FILES_PER_PAGE],
            "page": number,
            "has_next": len(page) > FILES_PER_PAGE,
            "offset": offset,
        }
    )
    return render(request, "portal/files.html", context)


@require_GET
@login_required
@biller_page
def file(request, biller, file_id):
    invoice_file = invoice_file_of_biller(biller=biller, file_id=file_id)
    if invoice_file is None:
        raise Http404("No such file.")
    scrub = formatting.Scrubber(biller_redactor(biller=biller))
    context = {
        "biller": biller,
        "section": "files",
        "file": invoice_file,
        "file_error": scrub(invoice_file.error_message),
        "warnings": [scrub(str(w)) for w in invoice_file.warnings or ()],
        "has_bif": invoice_file_bif(invoice_file=invoice_file) is not None,
    }
    try:
        number = page_number(request)
    except BadInput as e:
        return render(request, "portal/file.html", {**context, "error": str(e)}, status=400)
    offset = (number - 1) * ERRORS_PER_PAGE
    errors, total = invoice_file_errors_page(
        invoice_file=invoice_file, offset=offset, limit=ERRORS_PER_PAGE
    )
    if number > 1 and not errors:
        pages = max(1, -(-total // ERRORS_PER_PAGE))
        return render(
            request,
            "portal/file.html",
            {**context, "error": f"There is no page {number} of row errors (pages 1 to {pages})."},
            status=400,
        )
    for error in errors:
        error.message = scrub(error.message)
    context.update(
        {
            "errors": errors,
            "errors_total": total,
            "errors_first": offset + 1,
            "errors_last": offset + len(errors),
            "page": number,
            "per_page": ERRORS_PER_PAGE,
            "has_next": offset + len(errors) < total,
        }
    )
    return render(request, "portal/file.html", context)


@require_GET
@login_required
@biller_page
def file_bif(request, biller, file_id):
    """The file's BIF, streamed; 404 when the file is another biller's or has none."""
    invoice_file = invoice_file_of_biller(biller=biller, file_id=file_id)
    name = invoice_file_bif(invoice_file=invoice_file) if invoice_file else None
    if name is None:
        raise Http404("No BIF for this file.")
    assert invoice_file is not None  # a BIF comes only from a file
    return bif_response(invoice_file=invoice_file, name=name)
