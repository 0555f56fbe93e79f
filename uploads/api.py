"""REST API for image uploads: upload, list, delete, and the owner-only content URL."""

from __future__ import annotations

from django.conf import settings
from django.core.files.storage import FileSystemStorage, default_storage
from django.http import FileResponse, HttpResponseBase, HttpResponseRedirect
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework import status
from rest_framework.parsers import MultiPartParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from core.api import FirstRendererNegotiation, bad_request
from core.pagination import PAGE_ERRORS, Page, PageQuerySerializer
from uploads import selectors, services
from uploads.images import ALLOWED_FORMATS_IN_WORDS, check_size
from uploads.serializers import UploadCreateSerializer, UploadPageSerializer, UploadSerializer

_NOT_FOUND = OpenApiResponse(description="No such upload of yours.")


class UploadListCreateApi(APIView):
    parser_classes = [MultiPartParser]

    @extend_schema(
        parameters=[PageQuerySerializer],
        responses={200: UploadPageSerializer, **PAGE_ERRORS},
        summary="List your uploads, newest first",
        operation_id="uploads_list",
    )
    def get(self, request: Request) -> Response:
        page, _ = Page.from_request(request)
        uploads = selectors.upload_list(owner=request.user)
        return page.response(request, **page.payload(uploads, UploadSerializer, request=request))

    @extend_schema(
        request={"multipart/form-data": UploadCreateSerializer},
        responses={
            201: UploadSerializer,
            400: bad_request(f"No file, or not a {ALLOWED_FORMATS_IN_WORDS} image, or a damaged one."),
            409: OpenApiResponse(
                description="You have UPLOAD_MAX_PER_USER uploads, or this one would take yours past "
                "UPLOAD_MAX_TOTAL_BYTES_PER_USER; delete some first."
            ),
            413: OpenApiResponse(description="Larger than UPLOAD_MAX_BYTES."),
        },
        summary="Upload an image (verified, re-encoded without metadata)",
    )
    def post(self, request: Request) -> Response:
        payload = UploadCreateSerializer(data=request.data)
        payload.is_valid(raise_exception=True)
        uploaded = payload.validated_data["file"]
        limit = settings.UPLOAD_MAX_BYTES
        check_size(uploaded.size or 0, max_bytes=limit)
        # One byte over the limit is enough to know; never read an unbounded amount.
        data = uploaded.read(limit + 1)
        upload = services.upload_create(owner=request.user, data=data, filename=uploaded.name or "")
        return Response(UploadSerializer(upload, context={"request": request}).data, status=201)


class UploadDetailApi(APIView):
    @extend_schema(responses={200: UploadSerializer, 404: _NOT_FOUND}, summary="One of your uploads")
    def get(self, request: Request, upload_id: str) -> Response:
        upload = selectors.upload_get(owner=request.user, upload_id=upload_id)
        return Response(UploadSerializer(upload, context={"request": request}).data)

    @extend_schema(responses={204: None, 404: _NOT_FOUND}, summary="Delete an upload and its file")
    def delete(self, request: Request, upload_id: str) -> Response:
        services.upload_delete(upload=selectors.upload_get(owner=request.user, upload_id=upload_id))
        return Response(status=status.HTTP_204_NO_CONTENT)


class UploadContentApi(APIView):
    renderer_classes = [JSONRenderer]
    # The image, or an error in JSON, whatever the Accept header says.
    content_negotiation_class = FirstRendererNegotiation

    @extend_schema(
        responses={
            (200, "image/*"): OpenApiTypes.BINARY,
            302: OpenApiResponse(description="Redirect to a short-lived presigned URL (S3 storage)."),
            404: _NOT_FOUND,
        },
        summary="The image itself, for its owner only",
    )
    def get(self, request: Request, upload_id: str) -> HttpResponseBase:
        upload = selectors.upload_get(owner=request.user, upload_id=upload_id)
        if not isinstance(default_storage, FileSystemStorage):
            # S3: a presigned URL that expires after AWS_QUERYSTRING_EXPIRE seconds; the redirect
            # itself must not outlive it in a cache.
            response: HttpResponseBase = HttpResponseRedirect(default_storage.url(upload.storage_key))
            response["Cache-Control"] = "private, no-store"
            return response
        response = FileResponse(
            default_storage.open(upload.storage_key, "rb"), content_type=upload.content_type
        )
        response["Cache-Control"] = "private, max-age=3600"
        # Defence in depth: even if a file were not an image, it could not run script on our origin.
        response["Content-Security-Policy"] = "default-src 'none'; sandbox"
        response["Content-Disposition"] = "inline"
        return response
