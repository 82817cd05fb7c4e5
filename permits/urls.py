"""Permit pages (HTML): the public register and permit pages."""

from django.urls import path

from permits import views

app_name = "permits"

urlpatterns = [
    path("register/", views.register, name="register"),
    path("register/<str:number>/", views.register_entry, name="register_entry"),
    path("permits/<str:number>/", views.permit_detail, name="detail"),
    path("permits/<str:number>/act/<slug:action>/", views.permit_act, name="act"),
    path("permits/issue/<str:reference>/", views.permit_issue, name="issue"),
]
