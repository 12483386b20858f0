"""The dashboard's Starlette application: routes, static files and the security
middleware, around one `Dashboard` (config, database, clock)."""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from upload_scheduler.web import actions, pages
from upload_scheduler.web.render import STATIC, Dashboard
from upload_scheduler.web.security import Credentials, SecurityMiddleware


def create_app(board: Dashboard, credentials: Credentials | None = None) -> Starlette:
    """The ASGI app serving `board`; `credentials` None: no login (loopback only)."""
    routes = [
        Route("/", pages.overview, methods=["GET"]),
        Route("/queue", pages.queue, methods=["GET"]),
        Route("/queue/bulk", actions.bulk, methods=["POST"]),
        Route("/items/{queue_id:int}", pages.item, methods=["GET"]),
        Route(
            "/items/{queue_id:int}/{action:str}",
            actions.item_action,
            methods=["POST"],
        ),
        Route("/schedule", pages.schedule, methods=["GET"]),
        Route("/activity", pages.activity_page, methods=["GET"]),
        Route(
            "/accounts/{action:str}",
            actions.account_action,
            methods=["POST"],
        ),
        Route("/metrics", pages.metrics, methods=["GET"]),
        Route("/healthz", pages.healthz, methods=["GET"]),
        Mount("/static", app=StaticFiles(directory=STATIC), name="static"),
    ]
    middleware = [
        Middleware(
            SecurityMiddleware,
            credentials=credentials,
            read_only=board.read_only,
        )
    ]
    app = Starlette(routes=routes, middleware=middleware)
    app.state.dashboard = board
    return app
