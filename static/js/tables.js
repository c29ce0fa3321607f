// Labels each table cell with its column's heading, for the stacked tables of a phone (servicedesk.css).
(function () {
  function label(root) {
    root.querySelectorAll(".table-responsive > table").forEach(function (table) {
      var headings = Array.from(table.querySelectorAll("thead th")).map(function (th) {
        return th.textContent.trim();
      });
      table.querySelectorAll("tbody > tr, tfoot > tr").forEach(function (row) {
        Array.from(row.children).forEach(function (cell, index) {
          if (headings[index] && !cell.hasAttribute("colspan")) {
            cell.dataset.label = headings[index];
          }
        });
      });
    });
  }
  document.addEventListener("DOMContentLoaded", function () { label(document); });
  // Rows that htmx swaps in (a filtered list, a page of results) are labelled too.
  document.addEventListener("htmx:afterSettle", function () { label(document); });
})();
