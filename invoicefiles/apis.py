"""Invoice files for a partner: upload, status, the BIF."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, extend_schema
from rest_framework import serializers
from rest_framework.parsers import BaseParser, MultiPartParser
from rest_framework.response import Response
from rest_framework.views import APIView

from icintegrations.api import FileContentNegotiation
from icintegrations.errors import ApplicationError, ErrorCode, NotFoundError
from icintegrations.schema import error_responses
from invoicefiles.downloads import bif_response
from invoicefiles.models import InvoiceFileStatus
from invoicefiles.selectors import invoice_file_bif, invoice_file_errors, invoice_file_get
from invoicefiles.services.uploads import invoice_file_receive, too_large
from partners.apis import BID_PARAMETER, ErrorSerializer
from partners.selectors import biller_for_client

CHUNK = 1 << 20


class RawBodyParser(BaseParser):
    """Any other media type is the file itself, read from the request stream by the view."""

    media_type = "*/*"

    def parse(self, stream, media_type=None, parser_context=None):  # never called
        return {}


def _stream_chunks(stream):
    while chunk := stream.read(CHUNK):
        yield chunk


class InvoiceFileOutputSerializer(serializers.Serializer):
    id = serializers.UUIDField()
    status = serializers.CharField(help_text="queued, processing, done or failed.")
    duplicate = serializers.BooleanField(required=False)
    sha256 = serializers.CharField()
    size = serializers.IntegerField()
    name = serializers.CharField()
    encoding = serializers.CharField()
    rows = serializers.IntegerField()
    accepted = serializers.IntegerField()
    rejected = serializers.IntegerField()
    invoice_count = serializers.IntegerField()
    total_amount = serializers.CharField(allow_null=True)
    error = ErrorSerializer(allow_null=True)
    warnings = serializers.ListField(child=serializers.CharField())
    # DRF's metaclass takes declared fields off the class: Serializer.errors stays.
    errors = serializers.ListField(  # type: ignore[assignment]
        child=serializers.DictField(),
        help_text="Refused rows: line (the header is line 1), field, message; the first 1,000.",
    )
    received_at = serializers.DateTimeField()
    finished_at = serializers.DateTimeField(allow_null=True)


def _answer(invoice_file, *, duplicate=None) -> dict:
    body = {
        "id": invoice_file.pk,
        "status": invoice_file.status,
        "sha256": invoice_file.sha256,
        "size": invoice_file.size,
        "name": invoice_file.original_name,
        "encoding": invoice_file.encoding,
        "rows": invoice_file.rows,
        "accepted": invoice_file.accepted,
        "rejected": invoice_file.rejected,
        "invoice_count": invoice_file.invoice_count,
        "total_amount": (
            None if invoice_file.total_amount is None else f"{invoice_file.total_amount:.2f}"
        ),
        "error": (
            {"code": invoice_file.error_code, "message": invoice_file.error_message, "extra": {}}
            if invoice_file.error_code
            else None
        ),
        "warnings": invoice_file.warnings,
        "errors": invoice_file_errors(invoice_file=invoice_file),
        "received_at": invoice_file.created_at,
        "finished_at": invoice_file.finished_at,
    }
    if duplicate is not None:
        body["duplicate"] = duplicate
    return body


# The errors of each operation besides every operation's (icintegrations.schema).
_FILE = {404: (ErrorCode.BILLER_NOT_FOUND, ErrorCode.INVOICE_FILE_NOT_FOUND)}
UPLOAD_ERRORS = error_responses(
    {
        400: (ErrorCode.EMPTY_FILE, ErrorCode.FILE_MISSING),
        404: (ErrorCode.BILLER_NOT_FOUND,),
        413: (ErrorCode.FILE_TOO_LARGE,),
    }
)
DETAIL_ERRORS = error_responses(_FILE)
BIF_ERRORS = error_responses(_FILE, {404: (ErrorCode.BIF_NOT_AVAILABLE,)}, json_answer=False)


class InvoiceFileUploadApi(APIView):
    parser_classes = [MultiPartParser, RawBodyParser]

    @extend_schema(
        operation_id="invoice_file_upload",
        summary="Upload a partner's invoice file (UploadInvoiceFile)",
        description="The file as the raw body (any content type, e.g. text/plain), or as the "
        "`file` part of multipart/form-data. Streamed to disk; processed by a worker. The "
        "same bytes sent again answer the first upload (`duplicate: true`, 200) and are not "
        "applied again.",
        request={
            "text/plain": OpenApiTypes.BINARY,
            "application/octet-stream": OpenApiTypes.BINARY,
            "multipart/form-data": {
                "type": "object",
                "properties": {"file": {"type": "string", "format": "binary"}},
                "required": ["file"],
            },
        },
        parameters=[BID_PARAMETER],
        responses={
            202: InvoiceFileOutputSerializer,
            200: InvoiceFileOutputSerializer,
            **UPLOAD_ERRORS,
        },
        examples=[OpenApiExample("queued", value={"id": "...", "status": "queued"})],
    )
    def post(self, request, bid: int):
        biller = biller_for_client(client_id=request.user.pk, bid=bid)
        length = request.META.get("CONTENT_LENGTH") or ""
        if length.isdigit() and int(length) > _max_body():
            raise too_large(int(length))
        content_type = request.content_type or ""
        if content_type.startswith("multipart/form-data"):
            upload = request.FILES.get("file")
            if upload is None:
                raise ApplicationError(
                    "A multipart upload carries the file in a part named 'file'.",
                    code=ErrorCode.FILE_MISSING,
                )
            chunks, name = upload.chunks(CHUNK), upload.name or ""
        else:
            chunks = _stream_chunks(request.stream) if request.stream is not None else iter(())
            name = request.query_params.get("name", "")
        received = invoice_file_receive(
            biller=biller, chunks=chunks, original_name=name, client_id=request.user.pk
        )
        return Response(
            _answer(received.invoice_file, duplicate=received.duplicate),
            status=200 if received.duplicate else 202,
        )


def _max_body() -> int:
    from django.conf import settings

    # multipart framing adds a few hundred bytes around the file
    return settings.ICI_INVOICE_FILE_MAX_BYTES + 64 * 1024


class InvoiceFileDetailApi(APIView):
    @extend_schema(
        operation_id="invoice_file_status",
        summary="An invoice file's status, counts and refused rows",
        parameters=[BID_PARAMETER],
        responses={200: InvoiceFileOutputSerializer, **DETAIL_ERRORS},
    )
    def get(self, request, bid: int, file_id: str):
        biller = biller_for_client(client_id=request.user.pk, bid=bid)
        return Response(_answer(invoice_file_get(biller=biller, file_id=file_id)))


class InvoiceFileBifApi(APIView):
    content_negotiation_class = FileContentNegotiation

    @extend_schema(
        operation_id="invoice_file_bif",
        summary="The Biller Invoice File (BIF) made from an invoice file",
        parameters=[BID_PARAMETER],
        responses={(200, "text/plain"): OpenApiTypes.BINARY, **BIF_ERRORS},
    )
    def get(self, request, bid: int, file_id: str):
        biller = biller_for_client(client_id=request.user.pk, bid=bid)
        invoice_file = invoice_file_get(biller=biller, file_id=file_id)
        name = invoice_file_bif(invoice_file=invoice_file)
        if name is None:
            raise NotFoundError(
                f"The file is {invoice_file.status}: it has no BIF."
                if invoice_file.status != InvoiceFileStatus.DONE
                else "The BIF of this file is no longer kept.",
                code=ErrorCode.BIF_NOT_AVAILABLE,
                extra={"status": invoice_file.status},
            )
        return bif_response(invoice_file=invoice_file, name=name)
