from django.urls import path

from analytics import views

urlpatterns = [
    path("", views.portfolio_list, name="portfolio-list"),
    path("<int:portfolio_id>/", views.portfolio_detail, name="portfolio-detail"),
]
