from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.projects, name="projects"),
    path("new/", views.project_new, name="project-new"),
    path("<int:project_id>/", views.project_detail, name="project-detail"),
    path("<int:project_id>/fund/", views.project_fund_view, name="project-fund"),
    path("<int:project_id>/decline/", views.project_decline_view, name="project-decline"),
    path("<int:project_id>/volunteer/", views.project_volunteer_view, name="project-volunteer"),
    path("<int:project_id>/confirm/", views.project_confirm_view, name="project-confirm"),
    path("<int:project_id>/close/", views.project_close_view, name="project-close"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.ProjectListApi.as_view(), name="api-projects"),
    path("<int:project_id>/", apis.ProjectDetailApi.as_view(), name="api-project"),
    path("<int:project_id>/fund/", apis.ProjectFundApi.as_view()),
    path("<int:project_id>/decline/", apis.ProjectDeclineApi.as_view()),
    path("<int:project_id>/close/", apis.ProjectCloseApi.as_view()),
    path("<int:project_id>/volunteers/", apis.ProjectVolunteerApi.as_view()),
    path("<int:project_id>/confirmations/", apis.ProjectConfirmationApi.as_view()),
]
