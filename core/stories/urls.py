from django.urls import URLPattern, path

from . import apis, views

urlpatterns: list[URLPattern] = [
    path("", views.mine, name="stories-mine"),
    path("new/<slug:source>/<int:source_id>/", views.story_new, name="story-new"),
    path("<int:story_id>/withdraw/", views.withdraw, name="story-withdraw"),
    path("organiser/", views.organiser, name="stories-organiser"),
    path("<int:story_id>/pick/", views.pick, name="story-pick"),
]

api_urlpatterns: list[URLPattern] = [
    path("", apis.StoryListApi.as_view(), name="api-stories"),
    path("published/", apis.PublishedApi.as_view(), name="api-stories-published"),
    path("submitted/", apis.SubmittedApi.as_view(), name="api-stories-submitted"),
    path("<int:story_id>/withdraw/", apis.StoryWithdrawApi.as_view()),
    path("<int:story_id>/pick/", apis.StoryPickApi.as_view()),
]
