"""Server-side sessions: the cookie carries a signed random id, the data lives in `web_sessions`.

Tokens and OAuth state never travel to the browser, and logging out really ends a session.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from sqlalchemy import delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from curator.extensions import db
from curator.models.user import WebSession, utcnow

# Refresh the stored expiry at most this often, so reads don't turn into writes.
_TOUCH_INTERVAL = timedelta(hours=12)


class ServerSession(CallbackDict, SessionMixin):
    def __init__(self, initial=None, sid: str | None = None, new: bool = True, expires_at=None):
        def on_update(self):
            self.modified = True

        super().__init__(initial or {}, on_update)
        self.sid = sid or secrets.token_urlsafe(32)
        self.new = new
        self.modified = False
        self.expires_at = expires_at
        self.old_sids: list[str] = []

    def regenerate(self) -> None:
        """A fresh id after login, so an id planted before login is worthless (session fixation)."""
        if not self.new:
            self.old_sids.append(self.sid)
        self.sid = secrets.token_urlsafe(32)
        self.new = True
        self.modified = True


class DatabaseSessionInterface(SessionInterface):
    def _signer(self, app) -> Signer:
        return Signer(app.secret_key, salt="curator-session")

    def open_session(self, app, request):
        cookie = request.cookies.get(self.get_cookie_name(app))
        if not cookie:
            return ServerSession()
        try:
            sid = self._signer(app).unsign(cookie).decode()
        except BadSignature:
            return ServerSession()
        try:
            with db.engine.connect() as conn:
                row = conn.execute(
                    select(WebSession.data, WebSession.expires_at).where(WebSession.id == sid)
                ).first()
        except SQLAlchemyError:
            # Database down: carry on anonymous, so /healthz and error pages still answer.
            app.logger.exception("could not read the session")
            return ServerSession()
        if row is None or row.expires_at < utcnow():
            return ServerSession()
        data = row.data if isinstance(row.data, dict) else {}
        return ServerSession(data, sid=sid, new=False, expires_at=row.expires_at)

    def save_session(self, app, session: ServerSession, response):
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        lifetime = app.permanent_session_lifetime
        now = utcnow()
        if not session:
            if not session.new or session.old_sids:
                with db.engine.begin() as conn:
                    conn.execute(delete(WebSession).where(WebSession.id.in_([session.sid, *session.old_sids])))
                response.delete_cookie(name, domain=domain, path=path)
            return
        stale = session.expires_at is None or session.expires_at - now < lifetime - _TOUCH_INTERVAL
        if not (session.modified or session.new or stale):
            return
        expires_at = now + lifetime
        payload = dict(session)
        user_id = session.get("user_id")
        user_id = user_id if isinstance(user_id, int) else None
        with db.engine.begin() as conn:
            if session.old_sids:
                conn.execute(delete(WebSession).where(WebSession.id.in_(session.old_sids)))
            if session.new:
                conn.execute(insert(WebSession).values(
                    id=session.sid, data=payload, user_id=user_id, expires_at=expires_at))
            else:
                conn.execute(
                    update(WebSession)
                    .where(WebSession.id == session.sid)
                    .values(data=payload, user_id=user_id, expires_at=expires_at)
                )
            # Expired rows are swept now and then rather than by a separate job.
            if secrets.randbelow(200) == 0:
                conn.execute(delete(WebSession).where(WebSession.expires_at < now))
        response.set_cookie(
            name,
            self._signer(app).sign(session.sid.encode()).decode(),
            expires=expires_at,
            httponly=self.get_cookie_httponly(app),
            secure=self.get_cookie_secure(app),
            samesite=self.get_cookie_samesite(app),
            domain=domain,
            path=path,
        )
        response.vary.add("Cookie")
