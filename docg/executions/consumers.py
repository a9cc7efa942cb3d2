"""The websocket twin of the SSE stream: `/ws/executions/{id}/`, same events, auth and replay rule.

Auth: the dashboard session (AuthMiddlewareStack: any of the user's organizations) or
a stream token in the query string (`?token=`), both through docg.orgs.tenancy;
`last_event_id` in the query resumes after that id.
Another organization's execution (or no auth) closes the socket before accept.
"""

import asyncio
import json
from urllib.parse import parse_qs

from channels.generic.websocket import AsyncWebsocketConsumer

from docg.common.errors import DocgError
from docg.executions.models import WorkflowExecution
from docg.executions.sse import execution_event_source, in_thread
from docg.orgs import tenancy

CLOSE_UNAUTHORIZED = 4401
CLOSE_NOT_FOUND = 4404


class ExecutionConsumer(AsyncWebsocketConsumer):
    async def connect(self):
        query = parse_qs(self.scope.get("query_string", b"").decode())
        execution_id = str(self.scope["url_route"]["kwargs"]["pk"])
        token = (query.get("token") or [""])[0]
        try:
            organizations = await self._allowed_organizations(token, execution_id)
        except DocgError:
            await self.close(code=CLOSE_UNAUTHORIZED)
            return
        execution = await in_thread(
            lambda: WorkflowExecution.objects.filter(pk=execution_id, organization_id__in=organizations).first()
        )
        if execution is None:
            await self.close(code=CLOSE_NOT_FOUND)
            return
        await self.accept()
        last = (query.get("last_event_id") or [""])[0]
        self.pump = asyncio.create_task(self._pump(execution, last))

    async def _allowed_organizations(self, token: str, execution_id: str) -> list:
        if token:
            caller = await in_thread(tenancy.stream_token_caller, token)
            if caller.execution_id != execution_id:
                raise DocgError("stream_token_invalid", "This stream token is for another execution.", status_code=401)
            return [caller.organization_id]
        user = self.scope.get("user")
        if user is None or not user.is_authenticated:
            raise DocgError("not_authenticated", "Log in first.", status_code=401)
        return await in_thread(lambda: tenancy.member_organization_ids(user=user))

    async def _pump(self, execution, last: str) -> None:
        try:
            async for name, data, event_id, entry in execution_event_source(execution, last):
                if name == "ready":
                    continue
                if name == "heartbeat":
                    await self.send(text_data=json.dumps({"type": "heartbeat"}))
                    continue
                if entry is not None:
                    data = {**entry.event, "event_id": event_id}
                await self.send(text_data=json.dumps({"type": name, "id": event_id, "data": data}, default=str))
        finally:
            await self.close()

    async def disconnect(self, code):
        pump = getattr(self, "pump", None)
        if pump is not None and not pump.done():
            pump.cancel()
