"""gunicorn's settings for the web workers (read from the working folder: `gunicorn 'app:create_server()'`).

Threaded workers (gthread): a browser asks several callbacks at once, and each open page's event stream
(dashboard/live.py) holds one thread for as long as the page is open, so every worker gets
R57_LIVE_STREAMS threads more than the R57_WEB_THREADS (8) it runs requests on; the app keeps requests
other than streams to R57_WEB_THREADS at once (dashboard.live.RequestSlots). Options given on the command line win.
"""

import os

from config import LIVE_STREAMS

workers = int(os.environ.get("R57_WEB_WORKERS") or 4)
worker_class = "gthread"
threads = int(os.environ.get("R57_WEB_THREADS") or 8) + max(0, int(os.environ.get("R57_LIVE_STREAMS") or LIVE_STREAMS))
