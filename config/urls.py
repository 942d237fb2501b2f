from django.contrib import admin
from django.urls import include, path

from cases import views as case_views
from kooperationsplan import calendar_views, worklist

admin.site.site_header = "Kooperationsplan – Fachadministration"
admin.site.site_title = "Kooperationsplan"
admin.site.index_title = "Verwaltung"

urlpatterns = [
    path("", case_views.home, name="home"),
    path("anmelden/", case_views.LoginView.as_view(), name="login"),
    path("abmelden/", case_views.LogoutView.as_view(), name="logout"),
    path("health/", case_views.health, name="health"),
    path("arbeitsplatz/", worklist.worklist, name="worklist"),
    path("", include("kooperationsplan.notifications_urls")),
    path("faelle/", include("cases.urls")),
    path("faelle/<int:case_id>/", include("kooperationsplan.urls")),
    path("faelle/<int:case_id>/schreiben/", include("letters.urls")),
    path("serienbriefe/", include("kooperationsplan.urls_massrun")),
    path("team/", include("kooperationsplan.urls_team")),
    path("konto/kalender/", calendar_views.calendar_settings, name="calendar_settings"),
    path("kalender/<str:token>.ics", calendar_views.feed, name="calendar_feed"),
    path("verwaltung/", admin.site.urls),
]

handler400 = "cases.views.bad_request"
handler403 = "cases.views.permission_denied"
handler404 = "cases.views.page_not_found"
handler500 = "cases.views.server_error"
