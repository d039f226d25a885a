import gc
import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "ipt_clinic.settings.production")

application = get_wsgi_application()

# What is loaded by now (modules, settings, models, middleware) lives as long as the worker
# process: keep it out of the garbage collector's full passes, which otherwise walk all of it
# again every few hundred requests and stall the request they land in for tens of
# milliseconds.
gc.freeze()
