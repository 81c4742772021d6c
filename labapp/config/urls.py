from django.contrib import admin
from django.urls import include, path

urlpatterns = [
    path("", include("labapp.labs.web.urls")),
    path("", include("labapp.exercises.web.urls")),
    path("", include("labapp.classroom.web.urls")),
    path("accounts/", include("django.contrib.auth.urls")),
    path("i18n/", include("django.conf.urls.i18n")),
    path("admin/", admin.site.urls),
]

handler500 = "labapp.config.errors.server_error"
