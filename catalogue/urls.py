from django.urls import path

from catalogue import views

app_name = "catalogue"

urlpatterns = [
    path("", views.dataset_list, name="dataset_list"),
    path("<slug:slug>/", views.dataset_detail, name="dataset_detail"),
]
