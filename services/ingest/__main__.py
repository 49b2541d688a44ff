"""Run the ingest service: python -m services.ingest"""

from services.common.service import run_worker
from services.ingest.app import app, settings

run_worker(app, settings)
