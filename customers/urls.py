from django.urls import path

from . import review_views, views
from .reports import views as report_views

app_name = "customers"

urlpatterns = [
    path("customers/", views.customer_list, name="list"),
    path("customers/<int:pk>/", views.customer_detail, name="detail"),
    path("customers/<int:pk>/reminders/", views.reminders_set, name="reminders_set"),
    path("customers/<int:pk>/abusive-call/", views.abusive_call_record, name="abusive_call"),
    path("customers/<int:pk>/do-not-service/", views.do_not_service_propose, name="do_not_service_propose"),
    path("customers/<int:pk>/do-not-service/<int:decision_pk>/decide/", views.do_not_service_decide,
         name="do_not_service_decide"),
    path("customers/<int:pk>/do-not-service/lift/", views.do_not_service_lift, name="do_not_service_lift"),
    path("customers/<int:pk>/do-not-service/jobs/<int:job_pk>/", views.do_not_service_booked_job,
         name="do_not_service_booked_job"),
    path("jobs/", views.job_list, name="job_list"),
    path("jobs/<int:pk>/", views.job_detail, name="job_detail"),
    path("reviews/", review_views.review_settings, name="review_settings"),
    path("import/", views.import_upload, name="import"),
    path("import/confirm/", views.import_confirm, name="import_confirm"),
    path("import/example/<slug:kind>.csv", views.import_example, name="import_example"),
    path("import/report/", report_views.report_upload, name="report_upload"),
    path("import/report/<int:pk>/", report_views.report_detail, name="report_detail"),
    path("import/report/<int:pk>/progress/", report_views.report_progress, name="report_progress"),
    path("import/report/<int:pk>/sheet/", report_views.report_sheet, name="report_sheet"),
    path("import/report/<int:pk>/columns/", report_views.report_map, name="report_map"),
    path("import/report/<int:pk>/resolve/", report_views.report_resolve, name="report_resolve"),
    path("import/report/<int:pk>/import/", report_views.report_import, name="report_import"),
]
