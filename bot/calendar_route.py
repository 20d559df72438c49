"""GET /calendar/<token>.ics: the live feed of an account's upcoming visits (webhook mode).

A calendar app subscribes to the private URL made in «Профиль»; it polls
this route. The token is looked up by its keyed hash; a malformed, unknown or
revoked token answers 404 and nothing else (no hint whether it ever existed).
The feed is built as «Все записи в календарь» builds its file
(flows/ui/calendar_feed.py), in the account's language.
"""

from __future__ import annotations

from aiohttp import web

from bot.app_state import App
from domain.calendar_feed import plausible_token
from flows.ui.calendar_feed import feed_ics

ROUTE = "/calendar/{token}.ics"


def add_calendar_route(webapp: web.Application, app: App) -> None:
    async def feed(request: web.Request) -> web.Response:
        token = request.match_info.get("token", "")
        if not plausible_token(token):
            raise web.HTTPNotFound()
        now = app.clock.now()
        async with app.uow() as uow:
            user_id = await uow.calendar_feeds.owner(token)
            if user_id is None:
                raise web.HTTPNotFound()
            user = await uow.users.get(user_id)
            if user is None or user.status != "active":
                raise web.HTTPNotFound()
            visits = await uow.calendar_feeds.upcoming(user_id, now)
        locale = user.locale if user.locale in ("ru", "en") else app.settings.default_locale
        with app.i18n.context(), app.i18n.use_locale(locale):
            body = feed_ics(visits, now)
        return web.Response(
            body=body,
            content_type="text/calendar",
            charset="utf-8",
            headers={"Cache-Control": "private, max-age=300"},
        )

    webapp.router.add_get(ROUTE, feed)
