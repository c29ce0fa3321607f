"""Pagination for lists that can hold a million rows."""

from django.core.paginator import Paginator
from django.utils.functional import cached_property


class CappedPaginator(Paginator):
    """Counts the rows only as far as it needs to: at least `cap`, or up to the page asked for, plus one more.

    An exact count of a million jobs, or of every customer whose name contains an "a", is a scan of the whole
    match on every page view, and "1,000+" tells the CSR as much (narrow the search or the dates). One row past
    the limit is counted so "Next" stays on offer; walking further counts further, as OFFSET reads that far anyway.
    """

    def __init__(self, object_list, per_page, *, cap=1000, **kwargs):
        super().__init__(object_list, per_page, **kwargs)
        self.cap = cap
        self.capped = False
        self._wanted = 1

    # Nobody pages this far by hand; beyond it a page number is only a costlier count, or one too large for the
    # database's LIMIT (?page=99999999999999999999). Such a number shows the last page counted, as any page past
    # the end does.
    max_page = 10_000

    def get_page(self, number):
        try:
            self._wanted = min(max(1, int(number)), self.max_page)
        except (TypeError, ValueError, OverflowError):
            self._wanted = 1
        return super().get_page(number)

    @cached_property
    def limit(self):
        return max(self.cap, self._wanted * self.per_page)

    @cached_property
    def count(self):
        # Only the ids, unordered: the list's annotations (subqueries per row) and its sort are not needed to count,
        # and without them the database can stop at the limit.
        counted = self.object_list.order_by().values("pk")[: self.limit + 1].count()
        self.capped = counted > self.limit
        return counted
