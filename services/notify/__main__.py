"""Run the notify service: python -m services.notify"""

from services.common.service import run_worker
from services.notify.app import app, settings

run_worker(app, settings)
