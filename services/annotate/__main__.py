"""Run the annotate service: python -m services.annotate"""

from services.annotate.app import app, settings
from services.common.service import run_worker

run_worker(app, settings)
