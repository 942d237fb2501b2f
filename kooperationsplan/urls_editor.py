"""KP editor pages (draft editing, preview, activation, Fortschreibung, diff), under /faelle/<case_id>/kp/."""

from django.urls import path

from kooperationsplan import editor

urlpatterns = [
    path("vergleich/", editor.plan_diff, name="plan_diff"),
    path("<int:plan_id>/bearbeiten/", editor.plan_edit, name="plan_edit"),
    path("<int:plan_id>/vorschau/", editor.plan_preview, name="plan_preview"),
    path("<int:plan_id>/zeile/<slug:kind>/", editor.plan_row, name="plan_row"),
    path("<int:plan_id>/aktivierung/pruefung/", editor.plan_activation_check, name="plan_activation_check"),
    path("<int:plan_id>/aktivieren/", editor.plan_activate, name="plan_activate"),
    path("<int:plan_id>/fortschreibung/", editor.plan_continue, name="plan_continue"),
]
