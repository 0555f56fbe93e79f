from django.urls import path

from uploads import api

urlpatterns = [
    path("uploads", api.UploadListCreateApi.as_view(), name="api-upload-list"),
    path("uploads/<uuid:upload_id>", api.UploadDetailApi.as_view(), name="api-upload-detail"),
    path("uploads/<uuid:upload_id>/content", api.UploadContentApi.as_view(), name="api-upload-content"),
]
