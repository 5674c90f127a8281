from asgiref.sync import iscoroutinefunction, markcoroutinefunction

from . import unavailable


class DatabaseUnavailableMiddleware:
    """First in MIDDLEWARE: a view that meets a database outage or a busy pool answers 503.

    Django turns an exception raised inside any middleware into a response at that layer, so
    errors raised before the view (sessions, the user, the verification notice) never reach
    this class: config.urls' handler500 (core.views.server_error) answers those the same way.
    """

    sync_capable = True
    async_capable = True

    def __init__(self, get_response):
        self.get_response = get_response
        if iscoroutinefunction(get_response):
            markcoroutinefunction(self)

    def __call__(self, request):
        if iscoroutinefunction(self):
            return self.__acall__(request)
        return self.get_response(request)

    async def __acall__(self, request):
        return await self.get_response(request)

    def process_exception(self, request, exception):
        if unavailable.is_database_unavailable(exception):
            return unavailable.response_for(request, exception)
        return None
