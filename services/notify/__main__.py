"""Run the notify service: python -m services.notify"""

from services.common.service import run_worker
from services.notify.app import app

run_worker(app)
