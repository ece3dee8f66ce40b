"""Compliance REST routes, included under /api/compliance/."""

from django.urls import path

from compliance.api import views

urlpatterns = [
    path("alerts/", views.AlertListApi.as_view(), name="api-compliance-alerts"),
    path(
        "alerts/bulk-acknowledge/",
        views.BulkAcknowledgeApi.as_view(),
        name="api-compliance-bulk-acknowledge",
    ),
    path("alerts/<int:alert_id>/", views.AlertDetailApi.as_view(), name="api-compliance-alert"),
    path(
        "alerts/<int:alert_id>/<str:action>/",
        views.AlertActionApi.as_view(),
        name="api-compliance-alert-action",
    ),
    path("rules/", views.RuleListApi.as_view(), name="api-compliance-rules"),
    path("rules/<int:rule_id>/", views.RuleDetailApi.as_view(), name="api-compliance-rule"),
    path(
        "rules/<int:rule_id>/utilisation/",
        views.RuleUtilisationApi.as_view(),
        name="api-compliance-rule-utilisation",
    ),
    path("templates/", views.TemplateListApi.as_view(), name="api-compliance-templates"),
    path(
        "templates/apply/", views.TemplateApplyApi.as_view(), name="api-compliance-template-apply"
    ),
    path("headroom/", views.HeadroomApi.as_view(), name="api-compliance-headroom"),
    path("pre-trade-check/", views.PreTradeCheckApi.as_view(), name="api-compliance-pretrade"),
]
