app_name = "caseload"

urlpatterns: list = []
