from django.urls import path

from . import views

urlpatterns = [
    path("__ledger", views.ledger_view),
    path("__health", views.health),
    path("form/", views.form_page),
    path("form/comment", views.post_comment),
    path("api/notes", views.post_note),
]
