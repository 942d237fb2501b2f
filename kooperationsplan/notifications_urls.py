"""Notifications (every user) and absences with cover (team leads)."""

from django.urls import path

from kooperationsplan import notifications_views as views

app_name = "notifications"

urlpatterns = [
    path("benachrichtigungen/", views.notification_list, name="list"),
    path("benachrichtigungen/<int:notification_id>/gelesen/", views.notification_read, name="read"),
    path("benachrichtigungen/alle-gelesen/", views.notification_read_all, name="read_all"),
    path("vertretungen/", views.absences, name="absences"),
    path("vertretungen/<int:absence_id>/beenden/", views.absence_finish, name="absence_end"),
]
