from django.urls import path

from . import views

urlpatterns = [
    path("signup/code", views.send_code),
    path("signup", views.sign_up),
    path("signin", views.sign_in),
    path("me", views.me),
    path("notes", views.NotesView.as_view()),
    path("notes/<str:note_id>", views.NoteView.as_view()),
    path("notes/<str:note_id>/summary", views.summarise),
    path("admin/notes", views.AdminOverview.as_view()),
]
