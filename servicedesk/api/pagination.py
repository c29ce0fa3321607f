"""Keyset pagination on (updated_at, id): a client syncing "what changed since" walks forward page by page, each
page one indexed range query however deep it is. DRF's CursorPagination keys on one column and skips ties by
offset, and a bulk write gives thousands of rows the same updated_at (one transaction, one now())."""

import base64
import binascii
from datetime import datetime

from django.db.models import Q
from rest_framework.exceptions import NotFound
from rest_framework.pagination import BasePagination
from rest_framework.response import Response
from rest_framework.utils.urls import replace_query_param

PAGE_SIZE = 100
MAX_PAGE_SIZE = 1000


def _encode(updated_at, pk):
    return base64.urlsafe_b64encode(f"{updated_at.isoformat()}|{pk}".encode()).decode().rstrip("=")


def _decode(cursor):
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        moment, pk = text.split("|")
        return datetime.fromisoformat(moment), int(pk)
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise NotFound("The cursor is not valid: follow the `next` link as given.") from None


class UpdatedCursorPagination(BasePagination):
    cursor_query_param = "cursor"
    page_size_query_param = "page_size"

    def paginate_queryset(self, queryset, request, view=None):
        self.request = request
        self.page_size = self._page_size(request)
        cursor = request.query_params.get(self.cursor_query_param)
        queryset = queryset.order_by("updated_at", "pk")
        if cursor:
            updated_at, pk = _decode(cursor)
            queryset = queryset.filter(Q(updated_at__gt=updated_at) | Q(updated_at=updated_at, pk__gt=pk))
        rows = list(queryset[: self.page_size + 1])
        self.has_next = len(rows) > self.page_size
        rows = rows[: self.page_size]
        self.last = rows[-1] if rows else None
        return rows

    def _page_size(self, request):
        try:
            size = int(request.query_params.get(self.page_size_query_param, PAGE_SIZE))
        except ValueError:
            return PAGE_SIZE
        return max(1, min(size, MAX_PAGE_SIZE))

    def get_next_link(self):
        if not self.has_next:
            return None
        url = self.request.build_absolute_uri()
        return replace_query_param(url, self.cursor_query_param, _encode(self.last.updated_at, self.last.pk))

    def get_paginated_response(self, data):
        return Response({"next": self.get_next_link(), "results": data})

    def get_paginated_response_schema(self, schema):
        return {
            "type": "object",
            "required": ["results"],
            "properties": {
                "next": {"type": "string", "nullable": True, "format": "uri",
                         "description": "The next page, in order of change; null on the last page."},
                "results": schema,
            },
        }

    def get_schema_operation_parameters(self, view):
        return [
            {"name": self.cursor_query_param, "required": False, "in": "query",
             "description": "Where the page starts: take it from the `next` link.", "schema": {"type": "string"}},
            {"name": self.page_size_query_param, "required": False, "in": "query",
             "description": f"Records per page (default {PAGE_SIZE}, at most {MAX_PAGE_SIZE}).",
             "schema": {"type": "integer"}},
        ]
