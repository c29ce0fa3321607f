from django.urls import path

from . import views

app_name = "texting"
urlpatterns = [
    path("", views.inbox, name="inbox"),
    path("badge/", views.badge, name="badge"),
    path("<int:pk>/", views.conversation, name="conversation"),
    path("<int:pk>/link/", views.conversation_link, name="link"),
    path("<int:pk>/add-customer/", views.conversation_add_customer, name="add_customer"),
    path("customer/<int:pk>/", views.customer_texts, name="customer"),
    path("customer/<int:pk>/consent/", views.consent_set, name="consent"),
    path("templates/", views.template_list, name="templates"),
    path("templates/<int:pk>/", views.template_edit, name="template_edit"),
    path("templates/new/", views.template_edit, name="template_new"),
]
