"""Curator: a playlist prescription from how you feel to how you want to feel.

`create_app` reads like a table of contents: settings, storage, security, then the blueprints.
"""
from __future__ import annotations

import logging
import os
import sys

from flask import Flask

from curator.config import ROOT, Config


def create_app(test_config: dict | None = None) -> Flask:
    config = Config().as_dict()
    if test_config:
        config.update(test_config)
    if not config.get("SECRET_KEY"):
        if config.get("DEBUG") or config.get("TESTING"):
            # Debug runs get a throwaway key: sessions end with the process, which is fine there.
            config["SECRET_KEY"] = os.urandom(32).hex()
        else:
            sys.exit("Curator: SECRET_KEY is not set; put a long random value in the environment or .env "
                     "(python -c 'import secrets; print(secrets.token_hex(32))').")

    app = Flask(
        __name__,
        instance_path=config["INSTANCE_PATH"],
        template_folder=str(ROOT / "templates"),
        static_folder="static",
    )
    from curator import jsoncodec

    # The JSON columns are written and read with curator.jsoncodec (the codec the JSON answers use);
    # SQLALCHEMY_ENGINE_OPTIONS may still name another serializer: its keys come last and win.
    config["SQLALCHEMY_ENGINE_OPTIONS"] = {"json_serializer": jsoncodec.dumps,
                                           "json_deserializer": jsoncodec.loads_stored,
                                           **(config.get("SQLALCHEMY_ENGINE_OPTIONS") or {})}
    app.config.update(config)
    os.makedirs(app.instance_path, exist_ok=True)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger("alembic.runtime.plugins").setLevel(logging.WARNING)  # noise on every CLI call

    from curator import models  # noqa: F401  (registers every table)
    from curator.extensions import csrf, db, migrate

    db.init_app(app)
    migrate.init_app(app, db, directory=str(ROOT / "migrations"))
    csrf.init_app(app)

    from curator.sessions import DatabaseSessionInterface

    app.session_interface = DatabaseSessionInterface()

    from curator import blas, demo, display, errors, inputs, navigation, ratelimit, request_budget, security

    request_budget.init_app(app)
    blas.init_app(app)
    security.init_app(app)
    demo.init_app(app)
    errors.init_app(app)
    inputs.init_app(app)
    navigation.init_app(app)
    display.init_app(app)
    ratelimit.init_app(app)

    from curator import health, listen
    from curator.auth.routes import register as register_auth

    app.register_blueprint(health.bp)
    register_auth(app)
    app.register_blueprint(listen.bp)

    from curator import admin, api, curate

    app.register_blueprint(api.bp)
    app.register_blueprint(curate.bp)
    app.register_blueprint(admin.bp)

    from curator import cli, jobs

    cli.init_app(app)
    jobs.init_app(app)
    from curator.clock import utcnow

    app.extensions["curator.started_at"] = utcnow()  # /healthz: a schedule never run since then is late
    return app
