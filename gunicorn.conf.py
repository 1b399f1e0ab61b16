"""gunicorn settings for Curator in production: `gunicorn -c gunicorn.conf.py 'curator:create_app()'`.

Every number is a setting of curator/config.py, changed from the environment or .env:
WEB_CONCURRENCY (worker processes), WEB_THREADS (threads per worker, also sizes each worker's
database pool), WEB_TIMEOUT (seconds). gunicorn's own rules pick the address: 127.0.0.1:8000,
0.0.0.0:$PORT when PORT is set, or --bind.
"""
from curator.config import Config

# The settings the app reads, from the same environment and .env (curator/config.py has the defaults).
settings = Config()

# Previews are CPU work (numpy, one BLAS thread per worker) and saves mostly wait on Spotify:
# two processes per core keep the cores busy, threads let a process wait on Spotify for several
# saves at once.
workers = settings.WEB_CONCURRENCY
worker_class = "gthread"
threads = settings.WEB_THREADS

# A save may take its retry budget (about 10 s) plus a few Spotify calls of up to SPOTIFY_TIMEOUT
# (10 s) each. With threads the worker keeps beating while a request runs, so `timeout` only
# restarts a worker that is really stuck; the graceful timeout lets a running save finish on reload.
timeout = settings.WEB_TIMEOUT
graceful_timeout = 40
keepalive = 5

# Load the app once in the master before forking: workers share its code and the shipped data
# pages copy-on-write, and a broken configuration stops the start instead of every worker.
preload_app = True

# Query strings can hold secrets (/callback?code=…&state=… carries the OAuth code) and so can
# referers, so the access log has the method and path only, the status, size and time in ms.
accesslog = "-"
access_log_format = '%(h)s %(t)s "%(m)s %(U)s %(H)s" %(s)s %(b)s %(M)sms "%(a)s"'
errorlog = "-"

# Which X-Forwarded-* headers to believe is the app's decision (TRUSTED_PROXIES, ProxyFix in
# curator/security.py). gunicorn's own default believes X-Forwarded-Proto/-Ssl/-Protocol from
# 127.0.0.1, so anyone reaching it on loopback could forge HTTPS (HSTS, request.is_secure): it
# believes nothing when no proxy is trusted, and behind one only X-Forwarded-Proto, which the
# proxy sets (as ProxyFix reads it).
if settings.TRUSTED_PROXIES > 0:
    forwarded_allow_ips = "*"
    secure_scheme_headers = {"X-FORWARDED-PROTO": "https"}
else:
    forwarded_allow_ips = ""
    secure_scheme_headers = {}
forwarder_headers = ""  # SCRIPT_NAME/PATH_INFO from a header: never (X-Forwarded-Prefix is ProxyFix's)

# gunicorn's control socket is one path per user ($HOME/.gunicorn/gunicorn.ctl): a second server on
# the same machine (tests, benchmarks, a staging copy) would take it over. Curator does not use it.
control_socket_disable = True


def on_starting(server):
    """Warn when several processes run without Redis: their jobs are not shared (rate limits are then
    counted in the database, shared but at a write per request)."""
    if server.cfg.workers > 1 and not settings.REDIS_URL:
        server.log.warning(
            "Curator: %d workers but no REDIS_URL: each worker runs catalogue refreshes in its own thread, "
            "and rate limits are counted in the database (one more write per limited request). Set "
            "REDIS_URL (and start `rq worker curator`) in production, or run one worker.", server.cfg.workers)


def post_fork(server, worker):
    """Connections opened by the master (if any) must not be shared with a forked worker."""
    from curator.extensions import db

    app = getattr(server.app, "callable", None)
    if app is not None:
        with app.app_context():
            db.engine.dispose(close=False)


def post_worker_init(worker):
    """Warm each worker as soon as it starts, in a background thread (curator/warmup.py): the
    catalogue's memory maps opened and warmed, so its first preview does not do that itself."""
    from curator import warmup

    app = getattr(worker, "wsgi", None)
    if app is not None and hasattr(app, "app_context"):
        warmup.start(app)
