"""Server-side sessions: the cookie carries a signed random id, the data lives in `web_sessions`.

Tokens and OAuth state never travel to the browser, and logging out really ends a session.
A row is stored only when there is something to keep (a login, its OAuth state, a CSRF token of
a form that was shown): a visitor who only reads pages costs nothing.

A request uses one database connection, the ORM session's: the session row is read on it when the
request starts, and written on it after the view's transaction has ended (Flask saves the session
after the view and its error handlers), in a short transaction of its own together with the
writes the view deferred (refreshed tokens, the call log). So a view that rolls back never takes
the session or a token with it, and no request ever waits for a second connection.
"""
from __future__ import annotations

import secrets
from datetime import timedelta

from flask.sessions import SessionInterface, SessionMixin
from itsdangerous import BadSignature, Signer
from sqlalchemy import bindparam, delete, insert, select, update
from sqlalchemy.exc import SQLAlchemyError
from werkzeug.datastructures import CallbackDict

from curator import deferred_writes
from curator.clock import utcnow
from curator.extensions import db
from curator.models.user import User, WebSession

# A session that holds only an unfinished login (the OAuth state of /login) lives this long: a
# login finishes in a minute or two, and every /login without a cookie is a new row, so rows of
# logins nobody finished must not stay for the full lifetime (/login is also throttled per address).
PENDING_LOGIN_LIFETIME = timedelta(minutes=15)
PENDING_LOGIN_KEYS = frozenset({"oauth", "_flashes"})

# Refresh the stored expiry at most this often, so reads don't turn into writes.
_TOUCH_INTERVAL = timedelta(hours=12)
# Every request reads its session row, and a logged-in one its user (auth.routes.load_user): one
# statement, built once, brings both, so the user is already in the ORM session when it is asked
# for (a second statement and the ORM's load cost more than this whole read).
_READ = (select(WebSession.data, WebSession.expires_at, User)
         .outerjoin(User, User.id == WebSession.user_id)
         .where(WebSession.id == bindparam("sid")))


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
        self.loaded_user = None

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
            row = db.session.execute(_READ, {"sid": sid}).first()
        except SQLAlchemyError:
            # Database down: carry on anonymous, so /healthz and error pages still answer.
            db.session.rollback()
            app.logger.exception("could not read the session")
            return ServerSession()
        if row is None or row.expires_at < utcnow():
            return ServerSession()
        data = row.data if isinstance(row.data, dict) else {}
        opened = ServerSession(data, sid=sid, new=False, expires_at=row.expires_at)
        # The ORM session holds what it loaded only weakly: keep the user alive for the request, so
        # that load_user finds it there instead of reading it again.
        opened.loaded_user = row.User
        return opened

    def save_session(self, app, session: ServerSession, response):
        name = self.get_cookie_name(app)
        domain = self.get_cookie_domain(app)
        path = self.get_cookie_path(app)
        lifetime = app.permanent_session_lifetime
        if "oauth" in session and set(session) <= PENDING_LOGIN_KEYS:
            lifetime = PENDING_LOGIN_LIFETIME
        now = utcnow()
        # Whatever the view left uncommitted is abandoned (teardown would roll it back anyway);
        # from here on the connection carries only what must be kept.
        db.session.rollback()
        deferred_writes.flush()
        if not session:
            if not session.new or session.old_sids:
                db.session.execute(delete(WebSession).where(WebSession.id.in_([session.sid, *session.old_sids])))
                db.session.commit()
                response.delete_cookie(name, domain=domain, path=path)
                response.headers["Cache-Control"] = "no-store"
            return
        stale = session.expires_at is None or session.expires_at - now < lifetime - _TOUCH_INTERVAL
        if not (session.modified or session.new or stale):
            return
        expires_at = now + lifetime
        payload = dict(session)
        user_id = session.get("user_id")
        user_id = user_id if isinstance(user_id, int) else None
        if session.old_sids:
            db.session.execute(delete(WebSession).where(WebSession.id.in_(session.old_sids)))
        if session.new:
            db.session.execute(insert(WebSession).values(
                id=session.sid, data=payload, user_id=user_id, expires_at=expires_at))
        else:
            db.session.execute(
                update(WebSession)
                .where(WebSession.id == session.sid)
                .values(data=payload, user_id=user_id, expires_at=expires_at)
            )
        # Expired rows are swept now and then rather than by a separate job.
        if secrets.randbelow(200) == 0:
            db.session.execute(delete(WebSession).where(WebSession.expires_at < now))
        db.session.commit()
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
        # A response that sets a cookie must never be kept by a cache and replayed to someone else.
        response.headers["Cache-Control"] = "no-store"
